"""One-shot commands and keywords: each takes a Context and says whether it handled it."""
