from mockportal.cli import main

main()
