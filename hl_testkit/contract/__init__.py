"""The API contract: JSON Schemas, their routes, and checking bodies against them."""

from hl_testkit.contract.schemas import is_iso_date_time, validate_response

__all__ = ["is_iso_date_time", "validate_response"]
