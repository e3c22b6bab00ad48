using System.Text;
using Dclm.Formats;
using Dclm.Formats.Gguf;

namespace Dclm.Tokenizers;

/// <summary>
/// An exact BPE tokenizer for byte-level vocabularies (GPT-2, GPT-NeoX/DCLM, Llama 3, Qwen) and
/// SentencePiece-style vocabularies (Llama 1/2), built from a <see cref="TokenizerVocabulary"/>.
/// Instances are immutable and safe to use from several threads at once.
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers 2.0.1 is not used. Built from the same vocabulary, merges and pattern, its
/// BpeTokenizer matched all 46 GPT-NeoX vectors but only 74 of 76 Llama 3 reference strings: it has no
/// <c>ignore_merges</c> ("Cửa Việt") and its .NET regex pre-tokenizer sees UTF-16 code units, so letters
/// and digits outside the Basic Multilingual Plane ("𝟙𝟚𝟛") split differently from Hugging Face. It also
/// cannot build a SentencePiece tokenizer from GGUF metadata (its Llama tokenizer needs a protobuf model;
/// llama.cpp merges by piece score), always matches added tokens (no safe mode for untrusted text), and
/// its NFC normalizer relies on <c>string.Normalize</c>, a no-op in globalization-invariant mode.
/// </remarks>
public sealed class Tokenizer
{
    private readonly TokenizerVocabulary vocabulary;
    private readonly TokenizerTables tables;
    private readonly ITextEncoder encoder;
    private readonly AddedTokenMatcher addedTokens;
    private readonly TokenDecodingTable decodingTable;

    /// <summary>
    /// Builds a tokenizer, validating the vocabulary; an inconsistent one (lengths that disagree, merge
    /// rules naming unknown pieces, ids out of range) throws <see cref="ArgumentException"/>.
    /// </summary>
    public Tokenizer(TokenizerVocabulary vocabulary)
        : this(vocabulary, BuildTables(vocabulary))
    {
    }

    private Tokenizer(TokenizerVocabulary vocabulary, TokenizerTables tables)
    {
        this.vocabulary = vocabulary;
        this.tables = tables;
        encoder = vocabulary.ModelKind == TokenizerModelKind.ByteLevelBpe
            ? new ByteLevelEncoder(vocabulary, tables)
            : new SentencePieceEncoder(vocabulary, tables);
        addedTokens = new AddedTokenMatcher(vocabulary.Tokens, vocabulary.TokenTypes, vocabulary.AddedTokenStrips);
        decodingTable = new TokenDecodingTable(vocabulary);
    }

    private static TokenizerTables BuildTables(TokenizerVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        try
        {
            return TokenizerTables.Build(vocabulary, "the tokenizer vocabulary");
        }
        catch (VocabularyProblemException problem)
        {
            throw new ArgumentException($"The tokenizer vocabulary is inconsistent: {problem.Message}", nameof(vocabulary));
        }
    }

    /// <summary>
    /// Loads a Hugging Face <c>tokenizer.json</c> (optionally gzip-compressed, <c>.json.gz</c>) or the
    /// tokenizer stored in a <c>.gguf</c> file's metadata. Problems throw <see cref="ModelFileException"/>
    /// naming the file.
    /// </summary>
    public static Tokenizer Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            using var file = GgufFile.Open(path);
            return FromGguf(file);
        }
        return FromVocabulary(TokenizerJsonLoader.Load(path), path);
    }

    /// <summary>Builds the tokenizer described by an open GGUF file's <c>tokenizer.ggml.*</c> metadata.</summary>
    public static Tokenizer FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return FromVocabulary(GgufTokenizerLoader.Load(file), file.FilePath);
    }

    /// <summary>Builds a tokenizer from a vocabulary read from <paramref name="sourcePath"/>; problems name that file.</summary>
    internal static Tokenizer FromVocabulary(TokenizerVocabulary vocabulary, string sourcePath)
    {
        try
        {
            return new Tokenizer(vocabulary, TokenizerTables.Build(vocabulary, sourcePath));
        }
        catch (VocabularyProblemException problem)
        {
            throw new ModelFileException(sourcePath, problem.Message);
        }
    }

    /// <summary>The fill-in-the-middle tokens, declared or found by spelling (see <see cref="FillInMiddleTokens"/>).</summary>
    public FillInMiddleTokens FillInMiddle => fillInMiddle ??= FillInMiddleTokens.Resolve(vocabulary.FillInMiddle, tables.TokenToId.TryGetValue);

    private FillInMiddleTokens? fillInMiddle;

    /// <summary>The vocabulary this tokenizer was built from.</summary>
    public TokenizerVocabulary Vocabulary => vocabulary;

    /// <summary>Number of ids, added tokens included (50432 for DCLM-7B's GPT-NeoX vocabulary).</summary>
    public int VocabularySize => vocabulary.Tokens.Count;

    /// <summary>The beginning-of-sequence id, if the vocabulary defines one.</summary>
    public int? BeginningOfSequenceId => vocabulary.BeginningOfSequenceId;

    /// <summary>The end-of-sequence id, if the vocabulary defines one.</summary>
    public int? EndOfSequenceId => vocabulary.EndOfSequenceId;

    /// <summary>The unknown-token id, if the vocabulary defines one.</summary>
    public int? UnknownId => vocabulary.UnknownId;

    /// <summary>The padding id, if the vocabulary defines one.</summary>
    public int? PaddingId => vocabulary.PaddingId;

    /// <summary>Whether <see cref="Encode(string, bool, bool)"/> with special tokens starts with the beginning-of-sequence id.</summary>
    public bool AddBeginningOfSequence => vocabulary.AddBeginningOfSequence;

    /// <summary>Whether <see cref="Encode(string, bool, bool)"/> with special tokens ends with the end-of-sequence id.</summary>
    public bool AddEndOfSequence => vocabulary.AddEndOfSequence;

    /// <summary>
    /// Appends the beginning-of-sequence id to <paramref name="destination"/> when the vocabulary asks for one at the
    /// start of a sequence (<see cref="AddBeginningOfSequence"/>): the one place a prompt's first token is decided.
    /// </summary>
    public void AppendSequenceStart(List<int> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (vocabulary.AddBeginningOfSequence && vocabulary.BeginningOfSequenceId is int bos)
        {
            destination.Add(bos);
        }
    }

    /// <summary>
    /// The ids of a completion prompt: <see cref="AppendSequenceStart"/>, then <paramref name="text"/> with control tokens
    /// written in it tokenized as text and no end-of-sequence id (generation continues the text).
    /// </summary>
    public int[] EncodePrompt(string text)
    {
        var ids = new List<int>();
        AppendSequenceStart(ids);
        Encode(text, ids);
        return ids.ToArray();
    }

    /// <summary>
    /// Encodes <paramref name="text"/> into ids. With <paramref name="addSpecialTokens"/> the BOS/EOS ids
    /// are added where the vocabulary asks for them. With <paramref name="parseSpecialTokens"/> control
    /// tokens written in the text (such as <c>&lt;|endoftext|&gt;</c>) become their ids; otherwise they
    /// are tokenized as ordinary text, which is what untrusted input needs. User-defined added tokens are
    /// always matched.
    /// </summary>
    public int[] Encode(string text, bool addSpecialTokens = false, bool parseSpecialTokens = false)
    {
        var ids = new List<int>();
        Encode(text, ids, addSpecialTokens, parseSpecialTokens);
        return ids.ToArray();
    }

    /// <summary>Encodes <paramref name="text"/> and appends the ids to <paramref name="destination"/>; see <see cref="Encode(string, bool, bool)"/>.</summary>
    public void Encode(string text, List<int> destination, bool addSpecialTokens = false, bool parseSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(destination);
        if (addSpecialTokens)
        {
            AppendSequenceStart(destination);
        }
        if (addedTokens.IsEmpty)
        {
            encoder.Encode(text, atTextStart: true, destination);
        }
        else
        {
            var fragments = new List<TextFragment>();
            addedTokens.Split(text, parseSpecialTokens, fragments);
            foreach (var fragment in fragments)
            {
                if (fragment.IsToken)
                {
                    destination.Add(fragment.TokenId);
                }
                else
                {
                    encoder.Encode(text.Substring(fragment.Start, fragment.Length), fragment.Start == 0, destination);
                }
            }
        }
        if (addSpecialTokens && vocabulary.AddEndOfSequence)
        {
            destination.Add(vocabulary.EndOfSequenceId!.Value);
        }
    }

    /// <summary>
    /// Decodes ids into text. Byte sequences that are not valid UTF-8 become U+FFFD. With
    /// <paramref name="skipSpecialTokens"/> control and unknown tokens are left out. An id outside the
    /// vocabulary throws <see cref="ArgumentOutOfRangeException"/>.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var bytes = new List<byte>();
        AppendBytes(ids, skipSpecialTokens, bytes);
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        if (StripsLeadingSpace && span.Length > 0 && span[0] == (byte)' ')
        {
            span = span[1..];
        }
        return Encoding.UTF8.GetString(span);
    }

    /// <summary>Bytes of the longest token (what one id can add to a decoder's held-back bytes).</summary>
    public int LongestTokenBytes => decodingTable.LongestToken;

    /// <summary>Starts decoding a stream of generated ids one at a time.</summary>
    public StreamingDecoder CreateStreamingDecoder(bool skipSpecialTokens = false) => new(this, skipSpecialTokens);

    /// <summary>The bytes id <paramref name="id"/> contributes to decoded text (a byte token's single byte, for example).</summary>
    public ReadOnlySpan<byte> TokenBytes(int id)
    {
        CheckId(id);
        return decodingTable[id];
    }

    /// <summary>The vocabulary's text for <paramref name="id"/>, as stored (byte-level pieces in GPT-2's alphabet, '▁' for spaces).</summary>
    public string TokenText(int id)
    {
        CheckId(id);
        return vocabulary.Tokens[id];
    }

    /// <summary>The role of <paramref name="id"/>.</summary>
    public TokenType GetTokenType(int id)
    {
        CheckId(id);
        return vocabulary.TokenTypes[id];
    }

    /// <summary>True for control tokens (BOS, EOS, chat markers), which generation treats as non-text.</summary>
    public bool IsControl(int id) => GetTokenType(id) == TokenType.Control;

    /// <summary>Looks up the id of a piece given in the vocabulary's own spelling (for example "<c>Ġthe</c>" or "<c>▁the</c>").</summary>
    public bool TryGetId(string token, out int id)
    {
        ArgumentNullException.ThrowIfNull(token);
        return tables.TokenToId.TryGetValue(token, out id);
    }

    /// <summary>SentencePiece vocabularies with a dummy prefix drop one leading space from decoded text.</summary>
    internal bool StripsLeadingSpace => vocabulary.ModelKind == TokenizerModelKind.SentencePieceBpe && vocabulary.AddPrefixSpace;

    internal void AppendBytes(ReadOnlySpan<int> ids, bool skipSpecialTokens, List<byte> destination)
    {
        foreach (int id in ids)
        {
            AppendBytes(id, skipSpecialTokens, destination);
        }
    }

    internal void AppendBytes(int id, bool skipSpecialTokens, List<byte> destination)
    {
        CheckId(id);
        if (!skipSpecialTokens || !decodingTable.IsSkippedAsSpecial(id))
        {
            destination.AddRange(decodingTable[id]);
        }
    }

    private void CheckId(int id)
    {
        if ((uint)id >= (uint)vocabulary.Tokens.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is outside the vocabulary of {vocabulary.Tokens.Count} tokens.");
        }
    }
}
