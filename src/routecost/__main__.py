from routecost.cli import main

main()
