namespace Dclm.Tokenizers;

/// <summary>
/// Rank-ordered BPE over a sequence of token ids, as Hugging Face tokenizers and llama.cpp's BPE do:
/// repeatedly merge the adjacent pair with the lowest rank, the leftmost one on ties, until no adjacent
/// pair has a rule. A linked list over the symbols and a priority queue of candidate pairs make it
/// O(n log n); a candidate is re-checked when popped because its neighbours may have changed since.
/// </summary>
internal static class BytePairMerger
{
    [ThreadStatic] private static PriorityQueue<int, long>? reusableQueue;

    /// <summary>Merges <paramref name="symbols"/> in place and returns how many remain at the front.</summary>
    public static int Merge(Span<int> symbols, MergeTable merges)
    {
        int count = symbols.Length;
        if (count < 2)
        {
            return count;
        }
        Span<int> next = count <= 256 ? stackalloc int[count] : new int[count];
        Span<int> previous = count <= 256 ? stackalloc int[count] : new int[count];
        for (int index = 0; index < count; index++)
        {
            next[index] = index + 1 < count ? index + 1 : -1;
            previous[index] = index - 1;
        }

        var queue = reusableQueue ??= new PriorityQueue<int, long>();
        queue.Clear();
        for (int index = 0; index + 1 < count; index++)
        {
            Enqueue(queue, symbols, index, index + 1, merges);
        }

        while (queue.TryDequeue(out int position, out long priority))
        {
            int right = next[position];
            if (symbols[position] < 0 || right < 0)
            {
                continue;
            }
            // The queued pair may be stale: require the pair now at this position to carry the same rule.
            if (!merges.TryGet(symbols[position], symbols[right], out var rule) || rule.Rank != (int)(priority >> 32))
            {
                continue;
            }
            symbols[position] = rule.MergedId;
            symbols[right] = -1;
            int afterRight = next[right];
            next[position] = afterRight;
            if (afterRight >= 0)
            {
                previous[afterRight] = position;
                Enqueue(queue, symbols, position, afterRight, merges);
            }
            if (previous[position] >= 0)
            {
                Enqueue(queue, symbols, previous[position], position, merges);
            }
        }

        int kept = 0;
        for (int index = 0; index >= 0; index = next[index])
        {
            symbols[kept++] = symbols[index];
        }
        return kept;
    }

    private static void Enqueue(PriorityQueue<int, long> queue, Span<int> symbols, int left, int right, MergeTable merges)
    {
        if (merges.TryGet(symbols[left], symbols[right], out var rule))
        {
            queue.Enqueue(left, ((long)rule.Rank << 32) | (uint)left);
        }
    }
}
