using System.Globalization;
using System.Text;

namespace Dclm.Tokenizers;

/// <summary>
/// Unicode Normalization Form C, implemented here because .NET's <c>string.Normalize</c> silently does
/// nothing when globalization-invariant mode is on (as it is for this solution). The algorithm is UAX #15:
/// full canonical decomposition, canonical ordering by combining class, then canonical composition of
/// primary composites; Hangul syllables are handled arithmetically. The tables come from the Unicode
/// Character Database through generate-normalization-data.py.
/// </summary>
internal static class UnicodeNormalization
{
    private const int HangulSyllableBase = 0xAC00;
    private const int HangulLeadBase = 0x1100;
    private const int HangulVowelBase = 0x1161;
    private const int HangulTrailBase = 0x11A7;
    private const int HangulLeadCount = 19;
    private const int HangulVowelCount = 21;
    private const int HangulTrailCount = 28;
    private const int HangulSyllablesPerLead = HangulVowelCount * HangulTrailCount;
    private const int HangulSyllableCount = HangulLeadCount * HangulSyllablesPerLead;

    private static readonly Lazy<NormalizationTables> tables = new(NormalizationTables.Load);

    /// <summary>Returns <paramref name="text"/> in NFC (the same instance when it already is).</summary>
    public static string ToNfc(string text)
    {
        int firstSuspect = 0;
        while (firstSuspect < text.Length && text[firstSuspect] < 0x300)
        {
            firstSuspect++;
        }
        if (firstSuspect == text.Length || IsQuickCheckNfc(text, firstSuspect))
        {
            return text;
        }
        var codePoints = new List<int>(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            Decompose(rune.Value, codePoints);
        }
        Reorder(codePoints);
        Compose(codePoints);
        var builder = new StringBuilder(text.Length);
        foreach (int codePoint in codePoints)
        {
            builder.Append(new Rune(codePoint).ToString());
        }
        return builder.ToString();
    }

    // NFC_Quick_Check: text whose code points are all "Yes" and whose combining marks are in canonical
    // order is already normalized.
    private static bool IsQuickCheckNfc(string text, int start)
    {
        var data = tables.Value;
        int previousClass = 0;
        for (int index = start; index < text.Length;)
        {
            Rune.DecodeFromUtf16(text.AsSpan(index), out Rune rune, out int width);
            index += width;
            int combiningClass = data.CombiningClass(rune.Value);
            if ((combiningClass != 0 && previousClass > combiningClass) || data.IsQuickCheckNoOrMaybe(rune.Value))
            {
                return false;
            }
            previousClass = combiningClass;
        }
        return true;
    }

    /// <summary>Appends the full canonical decomposition of <paramref name="codePoint"/> (itself when it has none).</summary>
    internal static void Decompose(int codePoint, List<int> output)
    {
        int syllable = codePoint - HangulSyllableBase;
        if (syllable is >= 0 and < HangulSyllableCount)
        {
            output.Add(HangulLeadBase + syllable / HangulSyllablesPerLead);
            output.Add(HangulVowelBase + syllable % HangulSyllablesPerLead / HangulTrailCount);
            if (syllable % HangulTrailCount != 0)
            {
                output.Add(HangulTrailBase + syllable % HangulTrailCount);
            }
            return;
        }
        if (tables.Value.Decompositions.TryGetValue(codePoint, out int[]? parts))
        {
            output.AddRange(parts);
        }
        else
        {
            output.Add(codePoint);
        }
    }

    // Canonical ordering: a stable sort by combining class inside each run of non-starters.
    private static void Reorder(List<int> codePoints)
    {
        var data = tables.Value;
        for (int index = 1; index < codePoints.Count; index++)
        {
            int combiningClass = data.CombiningClass(codePoints[index]);
            if (combiningClass == 0)
            {
                continue;
            }
            int position = index;
            while (position > 0 && data.CombiningClass(codePoints[position - 1]) > combiningClass)
            {
                (codePoints[position - 1], codePoints[position]) = (codePoints[position], codePoints[position - 1]);
                position--;
            }
        }
    }

    private static void Compose(List<int> codePoints)
    {
        var data = tables.Value;
        var output = new List<int>(codePoints.Count);
        int starter = -1;
        int lastClass = -1; // -1: nothing kept since the starter, so the next code point is adjacent to it
        foreach (int codePoint in codePoints)
        {
            int combiningClass = data.CombiningClass(codePoint);
            bool blocked = lastClass != -1 && lastClass >= combiningClass;
            if (starter >= 0 && !blocked && TryComposePair(output[starter], codePoint, out int composite))
            {
                output[starter] = composite;
                continue;
            }
            if (combiningClass == 0)
            {
                starter = output.Count;
                lastClass = -1;
            }
            else
            {
                lastClass = combiningClass;
            }
            output.Add(codePoint);
        }
        codePoints.Clear();
        codePoints.AddRange(output);
    }

    private static bool TryComposePair(int first, int second, out int composite)
    {
        int lead = first - HangulLeadBase;
        int vowel = second - HangulVowelBase;
        if (lead is >= 0 and < HangulLeadCount && vowel is >= 0 and < HangulVowelCount)
        {
            composite = HangulSyllableBase + (lead * HangulVowelCount + vowel) * HangulTrailCount;
            return true;
        }
        int syllable = first - HangulSyllableBase;
        int trail = second - HangulTrailBase;
        if (syllable is >= 0 and < HangulSyllableCount && syllable % HangulTrailCount == 0 && trail is > 0 and < HangulTrailCount)
        {
            composite = first + trail;
            return true;
        }
        return tables.Value.Compositions.TryGetValue(((long)first << 32) | (uint)second, out composite);
    }

    private sealed class NormalizationTables
    {
        public readonly Dictionary<int, int> CombiningClasses = new();
        public readonly Dictionary<int, int[]> Decompositions = new();
        public readonly Dictionary<long, int> Compositions = MergeTable.CreatePairDictionary<int>(1024);
        private readonly List<(int First, int Last)> quickCheckRanges = new();

        public int CombiningClass(int codePoint) =>
            codePoint < 0x300 ? 0 : CombiningClasses.TryGetValue(codePoint, out int value) ? value : 0;

        public bool IsQuickCheckNoOrMaybe(int codePoint)
        {
            int low = 0;
            int high = quickCheckRanges.Count - 1;
            while (low <= high)
            {
                int middle = (low + high) / 2;
                var (first, last) = quickCheckRanges[middle];
                if (codePoint < first)
                {
                    high = middle - 1;
                }
                else if (codePoint > last)
                {
                    low = middle + 1;
                }
                else
                {
                    return true;
                }
            }
            return false;
        }

        public static NormalizationTables Load()
        {
            var result = new NormalizationTables();
            using var stream = typeof(UnicodeNormalization).Assembly.GetManifestResourceStream("Dclm.Tokenizers.NormalizationData.txt")
                ?? throw new InvalidOperationException("The embedded Unicode normalization data is missing from Dclm.Tokenizers.");
            using var reader = new StreamReader(stream, Encoding.ASCII);
            while (reader.ReadLine() is string line)
            {
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }
                string[] fields = line.Split(' ');
                int first = int.Parse(fields[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                switch (fields[0])
                {
                    case "c":
                        result.CombiningClasses[first] = int.Parse(fields[2], CultureInfo.InvariantCulture);
                        break;
                    case "d":
                        result.Decompositions[first] = fields[2..].Select(part => int.Parse(part, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
                        break;
                    case "p":
                        int second = int.Parse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                        result.Compositions[((long)first << 32) | (uint)second] = int.Parse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                        break;
                    case "q":
                        result.quickCheckRanges.Add((first, int.Parse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
                        break;
                }
            }
            return result;
        }
    }
}
