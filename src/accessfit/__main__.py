from accessfit.cli import main

raise SystemExit(main())
