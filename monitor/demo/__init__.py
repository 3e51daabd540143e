"""`pqwatch demo`: the whole cycle offline (`run`), on a generated sample blog (`sample_blog`) served
from memory on 127.0.0.1 (`site`, on `server`)."""
