namespace Dclm.Tokenizers.Tests;

/// <summary>
/// Our WordPiece against Hugging Face's own tokenizers library (fixtures/make-wordpiece-ids.js) over the
/// bert-base-uncased vocabulary that all-MiniLM-L6-v2 uses. (Microsoft.ML.Tokenizers' BertTokenizer is no
/// oracle here: in globalization-invariant mode it keeps accents, so "Café" becomes [UNK], and it drops
/// "$" and emoji that Hugging Face keeps.)
/// </summary>
public class WordPieceTests
{
    private static readonly string VocabularyPath = Path.Combine(AppContext.BaseDirectory, "fixtures", "bert-base-uncased-vocab.txt");
    private static readonly Lazy<WordPieceTokenizer> Ours = new(() =>
    {
        using var stream = File.OpenRead(VocabularyPath);
        return WordPieceTokenizer.FromVocabulary(stream);
    });
    private const string Separator = "\n__ggml_vocab_test__\n";

    private static string[] ReadStrings(string file)
    {
        string text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", file));
        Assert.EndsWith(Separator, text);
        return text[..^Separator.Length].Split(Separator);
    }

    [Fact]
    public void IdsAndSpansEqualHuggingFaceTokenizersOnEveryReferenceString()
    {
        var strings = new[] { "gpt-2.tests.inp", "extra.tests.inp", "random.tests.inp", "wordpiece.tests.inp" }.SelectMany(ReadStrings).ToArray();
        var expected = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "fixtures", "bert-base-uncased.reference.out"));
        Assert.Equal(strings.Length, expected.Length);
        var failures = new List<string>();
        for (int i = 0; i < strings.Length; i++)
        {
            var ids = new List<int>();
            var spans = new List<(int Start, int End)>();
            Ours.Value.Encode(strings[i], ids, spans);
            // The reference counts offsets in code points; ours are UTF-16 indices.
            int CodePoints(int end) => strings[i][..end].EnumerateRunes().Count();
            string actual = string.Concat(ids.Select((id, k) => $" {id}@{CodePoints(spans[k].Start)}:{CodePoints(spans[k].End)}"));
            if (actual != expected[i]) failures.Add($"string {i} {System.Text.Json.JsonSerializer.Serialize(strings[i])}:\n  ours {actual}\n  hf   {expected[i]}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {strings.Length} differ:\n" + string.Join("\n", failures.Take(8)));
    }

    [Fact]
    public void SpansPointAtTheTextEachTokenCameFrom()
    {
        const string text = "Café, naïve: 我爱 unbelievable!";
        var ids = new List<int>();
        var spans = new List<(int Start, int End)>();
        Ours.Value.Encode(text, ids, spans);
        Assert.Equal(ids.Count, spans.Count);
        var pieces = spans.Select(s => text[s.Start..s.End]).ToArray();
        Assert.Equal(["Café", ",", "naïve", ":", "我", "爱", "unbelievable", "!"], pieces);
        Assert.Equal("cafe", Ours.Value.Tokens[ids[0]]);
    }

    [Fact]
    public void ModelInputIsFramedAndTruncated()
    {
        var tokenizer = Ours.Value;
        var input = tokenizer.EncodeForModel("one two three four five", 4);
        Assert.Equal([tokenizer.ClassifyId, tokenizer.Tokens.ToList().IndexOf("one"), tokenizer.Tokens.ToList().IndexOf("two"), tokenizer.SeparatorId], input);
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.EncodeForModel("x", 1));
    }

    [Fact]
    public void AVocabularyWithoutSpecialTokensIsRefusedByName()
    {
        var error = Assert.Throws<ArgumentException>(() => new WordPieceTokenizer(["[CLS]", "[SEP]", "a"]));
        Assert.Contains("[UNK]", error.Message);
    }
}
