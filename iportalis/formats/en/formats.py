"""English dates as the policy has always written them ("25 July 2022", "1 December 2026, 23:25"),
not Django's US defaults.

German and French keep Django's own formats ("1. Dezember 2026", "1 décembre 2026").
"""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
