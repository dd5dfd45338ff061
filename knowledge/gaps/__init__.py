"""What merchants could not find: searches (with their result counts and whether a result was
opened), response codes nobody knows, wizard runs that ended "not solved", aggregated per day
(services.py) and read by the editors' content-gap page (selectors.py, views.py)."""
