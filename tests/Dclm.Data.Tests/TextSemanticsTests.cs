using System.Globalization;
using System.IO.Compression;
using System.Text;
using Dclm.Data.Text;

namespace Dclm.Data.Tests;

/// <summary>
/// The text primitives DCLM's rules are written in, against outside oracles: Unicode's own word-break
/// conformance test (WordBreakTest.txt, 15.0) for UAX #29, and Python's own str predicates (recorded by
/// scripts/make-python-text-fixture.py) for PythonText.
/// </summary>
public sealed class TextSemanticsTests
{
    [Fact]
    public void WordSegmenterPassesUnicodesWordBreakTest()
    {
        int cases = 0;
        var failures = new List<string>();
        foreach (var line in File.ReadLines(Fixtures.PathOf("WordBreakTest.txt")))
        {
            var body = line.Split('#')[0].Trim();
            if (body.Length == 0) continue;
            var text = new StringBuilder();
            var expected = new List<int>();
            foreach (var token in body.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (token == "÷") expected.Add(text.Length);
                else if (token != "×") text.Append(char.ConvertFromUtf32(Convert.ToInt32(token, 16)));
            }
            var actual = new List<int> { 0 };
            var segments = new WordSegmenter(text.ToString());
            while (segments.MoveNext()) actual.Add(segments.Start + segments.Length);
            cases++;
            if (!expected.SequenceEqual(actual)) failures.Add($"{body}: got {string.Join(',', actual)}, expected {string.Join(',', expected)}");
        }
        Assert.True(cases > 1800, $"only {cases} cases read");
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} cases fail:\n" + string.Join('\n', failures.Take(10)));
    }

    [Theory]
    [InlineData("foo_bar baz", new[] { "foo_bar", " ", "baz" })]
    [InlineData("co\u00ADop", new[] { "co\u00ADop" })]
    [InlineData("日本語テキスト", new[] { "日", "本", "語", "テキスト" })]
    [InlineData("ひらがな", new[] { "ひ", "ら", "が", "な" })]
    [InlineData("don't 3.14 a.b", new[] { "don't", " ", "3.14", " ", "a.b" })]
    [InlineData("𝐀𝐁𝐂 x", new[] { "𝐀𝐁𝐂", " ", "x" })]
    [InlineData("👩‍💻🇫🇷🇯🇵", new[] { "👩‍💻", "🇫🇷", "🇯🇵" })]
    [InlineData("a  \t b", new[] { "a", "  ", "\t", " ", "b" })]
    public void SegmentsAreUnicodeWords(string text, string[] expected)
    {
        var actual = new List<string>();
        var segments = new WordSegmenter(text);
        while (segments.MoveNext()) actual.Add(segments.Current.ToString());
        Assert.Equal(expected, actual);
    }

    private static readonly Dictionary<string, UnicodeCategory> Categories = new()
    {
        ["Lu"] = UnicodeCategory.UppercaseLetter, ["Ll"] = UnicodeCategory.LowercaseLetter, ["Lt"] = UnicodeCategory.TitlecaseLetter,
        ["Lm"] = UnicodeCategory.ModifierLetter, ["Lo"] = UnicodeCategory.OtherLetter, ["Mn"] = UnicodeCategory.NonSpacingMark,
        ["Mc"] = UnicodeCategory.SpacingCombiningMark, ["Me"] = UnicodeCategory.EnclosingMark, ["Nd"] = UnicodeCategory.DecimalDigitNumber,
        ["Nl"] = UnicodeCategory.LetterNumber, ["No"] = UnicodeCategory.OtherNumber, ["Zs"] = UnicodeCategory.SpaceSeparator,
        ["Zl"] = UnicodeCategory.LineSeparator, ["Zp"] = UnicodeCategory.ParagraphSeparator, ["Cc"] = UnicodeCategory.Control,
        ["Cf"] = UnicodeCategory.Format, ["Cs"] = UnicodeCategory.Surrogate, ["Co"] = UnicodeCategory.PrivateUse,
        ["Pc"] = UnicodeCategory.ConnectorPunctuation, ["Pd"] = UnicodeCategory.DashPunctuation, ["Ps"] = UnicodeCategory.OpenPunctuation,
        ["Pe"] = UnicodeCategory.ClosePunctuation, ["Pi"] = UnicodeCategory.InitialQuotePunctuation, ["Pf"] = UnicodeCategory.FinalQuotePunctuation,
        ["Po"] = UnicodeCategory.OtherPunctuation, ["Sm"] = UnicodeCategory.MathSymbol, ["Sc"] = UnicodeCategory.CurrencySymbol,
        ["Sk"] = UnicodeCategory.ModifierSymbol, ["So"] = UnicodeCategory.OtherSymbol, ["Cn"] = UnicodeCategory.OtherNotAssigned,
    };

    [Fact]
    public void PythonTextAgreesWithPythonOnEveryCodePointBothAssignAlike()
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(Fixtures.PathOf("python-str-predicates.txt.gz")), CompressionMode.Decompress));
        int compared = 0;
        var failures = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.StartsWith('#')) continue;
            var fields = line.Split(' ');
            int start = Convert.ToInt32(fields[0], 16), end = Convert.ToInt32(fields[1], 16);
            var category = Categories[fields[2]];
            if (category is UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned) continue;
            string flags = fields[3];
            for (int cp = start; cp <= end; cp++)
            {
                // Python 3.11 knows Unicode 14; skip code points .NET's newer tables classify differently.
                if (CharUnicodeInfo.GetUnicodeCategory(cp) != category) continue;
                compared++;
                string ours = (PythonText.IsSpace(cp) ? "s" : "") + (PythonText.IsAlpha(cp) ? "a" : "") + (PythonText.IsAlnum(cp) ? "l" : "")
                              + (PythonText.IsDigit(cp) ? "d" : "") + (PythonText.IsUpper(cp) ? "u" : "");
                if (ours.Length == 0) ours = "-";
                if (ours != flags && failures.Count < 20) failures.Add($"U+{cp:X4} ({fields[2]}): Python {flags}, ours {ours}");
                else if (ours != flags) failures.Add("");
            }
        }
        Assert.True(compared > 280_000, $"only {compared} code points compared");
        Assert.True(failures.Count == 0, $"{failures.Count} code points differ:\n" + string.Join('\n', failures.Where(f => f.Length > 0)));
    }

    [Theory]
    [InlineData("one two  three", 3)]
    [InlineData("one\u00A0two three", 2)]       // fastText does not split on a no-break space
    [InlineData("one\u3000two three", 2)]
    [InlineData("... — (one) two", 1)]          // tokens must start with a letter or digit
    [InlineData("line one\nline two\n\n", 4)]   // newlines are "</s>" tokens, never alphanumeric
    [InlineData("𝐀bc 😀 x", 2)]                 // an astral letter is alphanumeric, an emoji is not
    [InlineData("a\u001Cb c", 2)]               // U+001C is whitespace to Python, not to fastText
    [InlineData("", 0)]
    public void FastTextWordsCountLikeDclmsSplitWords(string text, int expected) => Assert.Equal(expected, FastTextWords.Count(text));

    [Theory]
    [InlineData("a b\u001Cc\u00A0d\u3000e\u0085f", 6)]
    [InlineData("  ", 0)]
    [InlineData("x\u200By", 1)]
    public void PythonSplitUsesPythonsWhitespace(string text, int expected) => Assert.Equal(expected, PythonText.CountWords(text));

    [Theory]
    [InlineData("😀😀", 2)]
    [InlineData("abc", 3)]
    public void LengthCountsCodePoints(string text, int expected) => Assert.Equal(expected, PythonText.Length(text));

    [Fact]
    public void ALoneSurrogateCountsAsOneCodePoint() => Assert.Equal(2, PythonText.Length(new string(['\uD800', 'x'])));
}
