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
    }

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
