"""Every form of SafeBed, one module per audience.

The pages and the JSON API use the same classes (the API runs them with CSRF
off, through `placement.api.bodies`), so a field's rules are written once.
`fields` holds the building blocks the others share.
"""
