"""Version of the stand-ins when run from source; each package build writes its own."""
VERSION = "0.0.0"
