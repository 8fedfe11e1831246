"""Organization, locations, rooms, devices and clinic settings."""
