using System.Text;

namespace Dclm.Tokenizers;

/// <summary>
/// The bytes each id stands for when decoding. Byte-level pieces map back through GPT-2's alphabet;
/// SentencePiece pieces turn '▁' into a space and <c>&lt;0xXX&gt;</c> tokens into their byte; added and
/// control tokens are their literal UTF-8 text (as llama.cpp renders them).
/// </summary>
internal sealed class TokenDecodingTable
{
    private readonly byte[][] bytesOfId;
    private readonly bool[] skippedAsSpecial;

    public TokenDecodingTable(TokenizerVocabulary vocabulary)
    {
        int count = vocabulary.Tokens.Count;
        bytesOfId = new byte[count][];
        skippedAsSpecial = new bool[count];
        for (int id = 0; id < count; id++)
        {
            var type = vocabulary.TokenTypes[id];
            skippedAsSpecial[id] = type is TokenType.Control or TokenType.Unknown;
            bytesOfId[id] = BytesOf(vocabulary.ModelKind, vocabulary.Tokens[id], type);
            LongestToken = Math.Max(LongestToken, bytesOfId[id].Length);
        }
    }

    /// <summary>Bytes of the longest token.</summary>
    public int LongestToken { get; }

    public ReadOnlySpan<byte> this[int id] => bytesOfId[id];

    /// <summary>True for the ids that decoding with "skip special tokens" leaves out.</summary>
    public bool IsSkippedAsSpecial(int id) => skippedAsSpecial[id];

    private static byte[] BytesOf(TokenizerModelKind kind, string text, TokenType type)
    {
        if (type is TokenType.Control or TokenType.UserDefined or TokenType.Unknown)
        {
            return Encoding.UTF8.GetBytes(text);
        }
        if (kind == TokenizerModelKind.ByteLevelBpe)
        {
            // A piece with characters outside the alphabet is taken literally, as Hugging Face's decoder does.
            return ByteLevelAlphabet.TryDecode(text, out byte[] bytes) ? bytes : Encoding.UTF8.GetBytes(text);
        }
        if (type == TokenType.Byte && TryParseByteToken(text, out byte value))
        {
            return [value];
        }
        return Encoding.UTF8.GetBytes(text.Replace('\u2581', ' '));
    }

    private static bool TryParseByteToken(string text, out byte value)
    {
        value = 0;
        return text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>'
            && byte.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out value);
    }
}
