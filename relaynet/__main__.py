"""``python -m relaynet`` runs the command-line tool."""

from relaynet.cli import main

main()
