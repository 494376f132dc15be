"""The API's routes, one Router per resource, all under /api."""

from .articles import articles
from .comments import comments
from .profiles import profiles
from .tags import tags
from .users import users

ROUTERS = (users, profiles, articles, comments, tags)

__all__ = ["ROUTERS", "articles", "comments", "profiles", "tags", "users"]
