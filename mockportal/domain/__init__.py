"""The rules of the portal. Each module holds one concept; none of them speaks HTTP."""
