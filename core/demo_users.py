"""Demo users and PIN: plain constants, so the sign-in screen can show them without importing
the domain (start-up speed)."""

DEMO_PIN = "1234"
DEMO_USERS = (
    ("nina", "Nina Okafor", "nurse"),
    ("noah", "Noah Brandt", "nurse"),
    ("phil", "Phil Marsh", "pharmacist"),
    ("priya", "Dr Priya Raman", "prescriber"),
    ("adam", "Adam Keller", "admin"),
)
