"""Run as ``python -m ram_env.data``: its own module, so that running it does not execute
``ram_env.data``, which importing ``ram_env`` has already loaded, a second time."""

from ram_env.data.cli import main

raise SystemExit(main())
