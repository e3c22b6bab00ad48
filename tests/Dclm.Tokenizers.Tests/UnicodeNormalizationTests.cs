using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Dclm.Tokenizers.Tests;

/// <summary>
/// NFC against the Unicode consortium's own conformance file (fixtures/NormalizationTest.txt.gz, the
/// UCD 15.0 NormalizationTest.txt): for every line c1;c2;c3;c4;c5, NFC(c1) = NFC(c2) = NFC(c3) = c2 and
/// NFC(c4) = NFC(c5) = c4.
/// </summary>
public class UnicodeNormalizationTests
{
    [Fact]
    public void PassesTheUnicodeConformanceTest()
    {
        using var file = File.OpenRead(Fixtures.Path("NormalizationTest.txt.gz"));
        using var reader = new StreamReader(new GZipStream(file, CompressionMode.Decompress), Encoding.UTF8);
        int checkedLines = 0;
        var failures = new List<string>();
        while (reader.ReadLine() is string line)
        {
            if (line.Length == 0 || line[0] is '#' or '@')
            {
                continue;
            }
            string[] columns = line.Split(';').Take(5).Select(Parse).ToArray();
            Check(columns[0], columns[1], line, failures);
            Check(columns[1], columns[1], line, failures);
            Check(columns[2], columns[1], line, failures);
            Check(columns[3], columns[3], line, failures);
            Check(columns[4], columns[3], line, failures);
            checkedLines++;
        }
        Assert.True(checkedLines > 18_000, $"only {checkedLines} lines were read");
        Assert.True(failures.Count == 0, $"{failures.Count} failures, first: {string.Join("\n", failures.Take(10))}");
    }

    [Fact]
    public void ReturnsTheSameInstanceForTextAlreadyInNfc()
    {
        string text = "plain ASCII and café and 日本語";
        Assert.Same(text, UnicodeNormalization.ToNfc(text));
    }

    private static void Check(string input, string expected, string line, List<string> failures)
    {
        string actual = UnicodeNormalization.ToNfc(input);
        if (actual != expected)
        {
            failures.Add($"{line}: got {Hex(actual)}");
        }
    }

    private static string Parse(string column) =>
        string.Concat(column.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(code => char.ConvertFromUtf32(int.Parse(code, NumberStyles.HexNumber, CultureInfo.InvariantCulture))));

    private static string Hex(string text) => string.Join(' ', text.EnumerateRunes().Select(rune => rune.Value.ToString("X4", CultureInfo.InvariantCulture)));
}
