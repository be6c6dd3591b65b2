"""Infrastructure the apps and the project share, importing none of them: process-local
snapshots kept in step through the cache, the client's address behind trusted proxies and the
checks of those settings, and the name of the read replica's database alias."""
