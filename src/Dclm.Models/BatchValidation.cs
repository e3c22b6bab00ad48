namespace Dclm.Models;

/// <summary>
/// Checks a forward step before any work: ids in range, each token at its slot's end (strict append), room in the cache,
/// logit rows inside the batch and a destination large enough. One per model: it keeps per-slot scratch, so a step
/// allocates nothing.
/// </summary>
public sealed class BatchValidation
{
    private int[] _slotEnds = [], _slotsSeen = [];

    /// <summary>Throws, naming the token, slot or buffer, when <paramref name="batch"/> cannot run on <paramref name="cache"/>.</summary>
    public void Check(ModelConfig config, ForwardBatch batch, KvCache cache, int destinationLength, int rowWidth, string destinationName)
    {
        int n = batch.Count;
        if (batch.Positions.Length < n || batch.Slots.Length < n)
            throw new ArgumentException($"batch has {n} tokens but {batch.Positions.Length} positions and {batch.Slots.Length} slots");
        if (cache.KeyValueDim != config.KeyValueDim) throw new ArgumentException("the KV cache was made for another model");
        // Each token must land at its slot's current end, so sequences never have gaps. _slotEnds[slot] is the slot's end
        // so far in this batch (0 = not seen yet, else end + 1); the slots seen are listed in _slotsSeen to reset after.
        if (_slotEnds.Length < cache.Slots) (_slotEnds, _slotsSeen) = (new int[cache.Slots], new int[cache.Slots]);
        int seen = 0;
        try
        {
            for (int i = 0; i < n; i++)
            {
                int token = batch.Tokens[i], slot = batch.Slots[i], position = batch.Positions[i];
                if ((uint)token >= (uint)config.VocabularySize) throw new ArgumentOutOfRangeException(nameof(batch), $"token id {token} is outside the vocabulary of {config.VocabularySize}");
                if ((uint)slot >= (uint)cache.Slots) throw new ArgumentOutOfRangeException(nameof(batch), $"slot {slot} is outside the cache's {cache.Slots} slots");
                if ((uint)position >= (uint)cache.Capacity) throw new ArgumentOutOfRangeException(nameof(batch), $"position {position} is beyond the cache capacity of {cache.Capacity}");
                if (_slotEnds[slot] == 0) _slotsSeen[seen++] = slot;
                int length = _slotEnds[slot] == 0 ? cache.Length(slot) : _slotEnds[slot] - 1;
                // Strict append: a caller that rewinds a sequence calls KvCache.Truncate first, so no stale
                // positions ever sit behind a rewritten one.
                if (position != length) throw new ArgumentException($"token {i} is at position {position} but slot {slot} holds {length} positions; tokens must extend their sequence in order");
                _slotEnds[slot] = position + 2;
            }
            int blocks = 0;
            for (int i = 0; i < seen; i++) blocks += cache.BlocksNeeded(_slotsSeen[i], _slotEnds[_slotsSeen[i]] - 1);
            if (blocks > cache.FreeBlocks)
                throw new InvalidOperationException($"the KV cache is full: this step needs {blocks} more blocks of {cache.BlockSize} positions and {cache.FreeBlocks} are free");
        }
        finally
        {
            for (int i = 0; i < seen; i++) _slotEnds[_slotsSeen[i]] = 0;
        }
        int rows = batch.LogitRowCount;
        for (int r = 0; r < rows; r++)
            if ((uint)batch.LogitRows[r] >= (uint)n) throw new ArgumentOutOfRangeException(nameof(batch), $"logit row {batch.LogitRows[r]} is outside the batch of {n}");
        if (destinationLength < (long)rows * rowWidth)
            throw new ArgumentException($"{destinationName} buffer holds {destinationLength} values, {rows} rows need {(long)rows * rowWidth}");
    }

}
