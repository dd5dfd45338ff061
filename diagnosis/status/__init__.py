"""The public bank status page (/status/) and its Atom feed: each acquirer's state from open
incidents and bank announcements, and the last 30 days of incidents."""
