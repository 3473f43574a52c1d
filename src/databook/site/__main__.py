"""Entry point mystmd runs as the site template's render command."""

from databook.site.render import main

if __name__ == "__main__":
    main()
