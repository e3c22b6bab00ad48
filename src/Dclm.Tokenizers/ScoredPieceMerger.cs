namespace Dclm.Tokenizers;

/// <summary>
/// SentencePiece BPE as llama.cpp runs it from a GGUF vocabulary, which has piece scores but no merge
/// list: start from single code points, repeatedly join the adjacent pair whose concatenation is a
/// vocabulary piece with the highest score (the leftmost on ties), then emit each remaining symbol as
/// its piece, or as <c>&lt;0xXX&gt;</c> byte tokens when a lone code point is not a piece.
/// </summary>
internal sealed class ScoredPieceMerger
{
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> pieceLookup;
    private readonly IReadOnlyList<float> scores;
    private readonly ByteTokenTable byteTokens;

    public ScoredPieceMerger(Dictionary<string, int> tokenToId, IReadOnlyList<float> scores, ByteTokenTable byteTokens)
    {
        pieceLookup = tokenToId.GetAlternateLookup<ReadOnlySpan<char>>();
        this.scores = scores;
        this.byteTokens = byteTokens;
    }

    /// <summary>Appends the ids for <paramref name="text"/> (already with '▁' for spaces) to <paramref name="output"/>.</summary>
    public void Encode(string text, List<int> output)
    {
        if (text.Length == 0)
        {
            return;
        }
        // Symbols are code points: start (in chars), length (in chars, 0 once merged away), links.
        int capacity = text.Length;
        var start = new int[capacity];
        var length = new int[capacity];
        var next = new int[capacity];
        var previous = new int[capacity];
        int count = 0;
        for (int index = 0; index < text.Length;)
        {
            int width = char.IsHighSurrogate(text[index]) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]) ? 2 : 1;
            start[count] = index;
            length[count] = width;
            previous[count] = count - 1;
            next[count] = index + width < text.Length ? count + 1 : -1;
            count++;
            index += width;
        }

        // Highest score first, then lowest left index: the priority is (-score, left).
        var queue = new PriorityQueue<Bigram, (float NegativeScore, int Left)>();
        for (int index = 1; index < count; index++)
        {
            TryAddBigram(queue, text, start, length, index - 1, index);
        }
        while (queue.TryDequeue(out var bigram, out _))
        {
            int left = bigram.Left;
            int right = bigram.Right;
            if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != bigram.Length)
            {
                continue;
            }
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0)
            {
                previous[next[right]] = left;
            }
            if (previous[left] >= 0)
            {
                TryAddBigram(queue, text, start, length, previous[left], left);
            }
            if (next[left] >= 0)
            {
                TryAddBigram(queue, text, start, length, left, next[left]);
            }
        }

        for (int symbol = 0; symbol >= 0; symbol = next[symbol])
        {
            var piece = text.AsSpan(start[symbol], length[symbol]);
            if (pieceLookup.TryGetValue(piece, out int id))
            {
                output.Add(id);
            }
            else
            {
                byteTokens.AppendBytesOf(piece, output);
            }
        }
    }

    private void TryAddBigram(PriorityQueue<Bigram, (float, int)> queue, string text, int[] start, int[] length, int left, int right)
    {
        int combined = length[left] + length[right];
        if (pieceLookup.TryGetValue(text.AsSpan(start[left], combined), out int id))
        {
            queue.Enqueue(new Bigram(left, right, combined), (-scores[id], left));
        }
    }

    private readonly record struct Bigram(int Left, int Right, int Length);
}
