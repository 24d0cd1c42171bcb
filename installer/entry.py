"""The frozen app's entry point: the same `main` as the `reverie` console script."""

from reverie.desktop.launcher import main

raise SystemExit(main())
