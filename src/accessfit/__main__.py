from accessfit.app.cli import main

raise SystemExit(main())
