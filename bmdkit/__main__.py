from bmdkit.cli.app import main

raise SystemExit(main())
