"""English dates as the policy has always written them ("25 July 2022"), not Django's US default.

German and French keep Django's own formats ("1. Dezember 2026", "1 décembre 2026").
"""

DATE_FORMAT = "j F Y"
