#!/usr/bin/env python
from neuroclinic.__main__ import main

if __name__ == "__main__":
    main()
