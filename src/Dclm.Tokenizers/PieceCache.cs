using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Dclm.Tokenizers;

/// <summary>
/// A thread-safe map from a piece of text to its ids, emptied when it reaches its bound so that memory
/// stays flat however much text passes through. (ConcurrentDictionary.Count takes every lock, so the
/// size is tracked separately.)
/// </summary>
internal sealed class PieceCache
{
    private const int Limit = 100_000;

    private readonly ConcurrentDictionary<string, int[]> entries = new(StringComparer.Ordinal);
    private int count;

    public bool TryGetValue(string piece, [MaybeNullWhen(false)] out int[] ids) => entries.TryGetValue(piece, out ids);

    public void Add(string piece, int[] ids)
    {
        if (Interlocked.Increment(ref count) > Limit)
        {
            entries.Clear();
            Interlocked.Exchange(ref count, 0);
        }
        entries.TryAdd(piece, ids);
    }
}
