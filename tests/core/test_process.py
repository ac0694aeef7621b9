"""What the process holds in memory, and giving freed memory back to the system."""

from __future__ import annotations

from calipso_core.process import release_free_memory, resident_mb


def test_freed_memory_goes_back_to_the_system():
    blocks = [bytearray(1000) for _ in range(100_000)]  # 100 MB from the C allocator's heap
    kept = blocks[::20]  # a block in every few pages stays: free() alone gives back little
    before = resident_mb()
    del blocks
    freed = resident_mb()
    assert release_free_memory() is True
    after = resident_mb()
    assert before - freed < 20 and freed - after > 40
    assert len(kept) == 5000
