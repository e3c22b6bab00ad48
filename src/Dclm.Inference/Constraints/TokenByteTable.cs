using System.Runtime.CompilerServices;
using Dclm.Tokenizers;

namespace Dclm.Inference.Constraints;

/// <summary>
/// Every token's bytes in one array, for constraints that test each token against a byte grammar. Control
/// and other special tokens, and ids the model has beyond the tokenizer's vocabulary, have no bytes: they are
/// never text. Built once per tokenizer and model vocabulary size.
/// </summary>
public sealed class TokenByteTable
{
    private static readonly ConditionalWeakTable<Tokenizer, TokenByteTable> Cache = new();

    private readonly byte[] _bytes;
    private readonly int[] _starts; // token i's bytes are _bytes[_starts[i].._starts[i + 1]]

    private TokenByteTable(Tokenizer tokenizer, int vocabularySize)
    {
        Count = vocabularySize;
        _starts = new int[vocabularySize + 1];
        var bytes = new List<byte>();
        for (int id = 0; id < vocabularySize; id++)
        {
            _starts[id] = bytes.Count;
            if (id < tokenizer.VocabularySize && tokenizer.GetTokenType(id) is TokenType.Normal or TokenType.Byte or TokenType.UserDefined)
                bytes.AddRange(tokenizer.TokenBytes(id));
        }
        _starts[vocabularySize] = bytes.Count;
        _bytes = bytes.ToArray();
        var buckets = Enumerable.Range(0, 256).Select(_ => new List<int>()).ToArray();
        var empty = new List<int>();
        for (int id = 0; id < vocabularySize; id++)
        {
            if (_starts[id + 1] == _starts[id]) empty.Add(id);
            else buckets[_bytes[_starts[id]]].Add(id);
        }
        ByFirstByte = buckets.Select(b => b.ToArray()).ToArray();
        WithoutBytes = [.. empty];
        _plain = new bool[vocabularySize];
        for (int id = 0; id < vocabularySize; id++) _plain[id] = Plain(this[id]);
    }

    private readonly bool[] _plain;

    /// <summary>
    /// Whether token <paramref name="id"/> is plain JSON string text: read from inside a string past any escape
    /// or partial character, every byte continues the string and it ends there again (whole characters, complete
    /// escapes, no quote or control character). Inside a string such a token is always accepted.
    /// </summary>
    public bool IsPlainString(int id) => _plain[id];

    private static bool Plain(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return false;
        var reader = new JsonStringReader();
        foreach (byte b in bytes)
            if (reader.Feed(b) != ScalarStep.Continue) return false;
        return reader.IsPlain;
    }

    /// <summary>Token ids grouped by their first byte, so a grammar can rule out a whole group with one byte.</summary>
    public int[][] ByFirstByte { get; }

    /// <summary>Token ids that have no bytes (special tokens, ids beyond the tokenizer): never text.</summary>
    public int[] WithoutBytes { get; }

    /// <summary>The table for <paramref name="tokenizer"/> and a model of <paramref name="vocabularySize"/> tokens.</summary>
    public static TokenByteTable For(Tokenizer tokenizer, int vocabularySize)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(tokenizer, out var table) && table.Count == vocabularySize) return table;
            table = new TokenByteTable(tokenizer, vocabularySize);
            Cache.AddOrUpdate(tokenizer, table);
            return table;
        }
    }

    /// <summary>The number of token ids.</summary>
    public int Count { get; }

    /// <summary>Token <paramref name="id"/>'s bytes; empty for a special token.</summary>
    public ReadOnlySpan<byte> this[int id] => _bytes.AsSpan(_starts[id], _starts[id + 1] - _starts[id]);
}
