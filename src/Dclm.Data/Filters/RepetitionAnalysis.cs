using System.Runtime.InteropServices;
using Dclm.Data.Text;

namespace Dclm.Data.Filters;

/// <summary>
/// What the repetition rules need from one page, computed on first use and shared by all of them (DCLM's
/// <c>cache</c>): lines and paragraphs (DCLM's <c>split_paragraphs</c>) with their counts, and the Unicode words
/// (<c>split_words(model="uniseg", ignore_punctuation=True)</c>: uniseg's segments whose first code point is alphanumeric) as
/// integer ids with their lengths in code points.
/// </summary>
public sealed class RepetitionAnalysis(string text)
{
    private List<string>? _lines, _paragraphs;
    private int[]? _words;           // word ids in order
    private int[]? _lengths;         // code points per word id
    private long _wordCharacters;
    private RepetitionAnalysis? _lowered;

    /// <summary>The page.</summary>
    public string Text => text;

    /// <summary>The same analysis of <c>text.lower()</c>.</summary>
    public RepetitionAnalysis Lowered() => _lowered ??= new RepetitionAnalysis(text.ToLowerInvariant());

    /// <summary>Stripped non-blank lines or paragraphs.</summary>
    public List<string> Segments(bool paragraphs) =>
        paragraphs ? _paragraphs ??= Paragraphs.Split(text, "\n\n") : _lines ??= Paragraphs.Split(text, "\n");

    /// <summary>Share of segments (or of their code points) in segments that occur more than once.</summary>
    public double RepeatedSegmentFraction(bool paragraphs, bool byCharacters)
    {
        var segments = Segments(paragraphs);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var s in segments) CollectionsMarshal.GetValueRefOrAddDefault(counts, s, out _)++;
        if (!byCharacters)
        {
            long repeated = 0;
            foreach (var c in counts.Values) if (c > 1) repeated += c;
            return (double)repeated / segments.Count;
        }
        long total = 0, repeatedCharacters = 0;
        foreach (var s in segments) total += PythonText.Length(s);
        foreach (var (s, c) in counts) if (c > 1) repeatedCharacters += (long)PythonText.Length(s) * c;
        return (double)repeatedCharacters / total;
    }

    private void Words()
    {
        if (_words is not null) return;
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var lookup = ids.GetAlternateLookup<ReadOnlySpan<char>>();
        var words = new List<int>();
        var lengths = new List<int>();
        var segments = new WordSegmenter(text, WordBreakRules.Uniseg);
        while (segments.MoveNext())
        {
            var word = segments.Current;
            if (!PythonText.IsAlnum(PythonText.At(word, 0).CodePoint)) continue;
            if (!lookup.TryGetValue(word, out int id))
            {
                id = ids.Count;
                lookup[word] = id;
                lengths.Add(PythonText.Length(word));
            }
            words.Add(id);
            _wordCharacters += lengths[id];
        }
        _words = words.ToArray();
        _lengths = lengths.ToArray();
    }

    /// <summary>The repeated fraction of word characters for n-grams of size <paramref name="n"/>; 0 when none repeat.</summary>
    public double RepeatedNgramFraction(int n, NgramMeasure measure)
    {
        Words();
        var words = _words!;
        int ngrams = words.Length - n + 1;
        if (ngrams <= 0) return 0;
        var counts = new Dictionary<int, int>(ngrams, new NgramComparer(words, n));
        int best = 0;
        for (int i = 0; i < ngrams; i++)
        {
            ref int count = ref CollectionsMarshal.GetValueRefOrAddDefault(counts, i, out _);
            best = Math.Max(best, ++count);
        }
        if (best == 1) return 0;
        if (measure == NgramMeasure.MostCommon)
        {
            long longest = 0;
            foreach (var (start, count) in counts) if (count == best) longest = Math.Max(longest, NgramLength(start, n));
            return (double)(longest * best) / _wordCharacters;
        }
        var covered = new bool[words.Length];
        for (int i = 0; i < ngrams; i++)
        {
            if (counts[i] > 1) covered.AsSpan(i, n).Fill(true);
        }
        long repeated = 0;
        for (int i = 0; i < words.Length; i++) if (covered[i]) repeated += _lengths![words[i]];
        return (double)repeated / _wordCharacters;
    }

    private long NgramLength(int start, int n)
    {
        long length = 0;
        for (int i = start; i < start + n; i++) length += _lengths![_words![i]];
        return length;
    }

    /// <summary>Compares n-grams by their start index: equal when their word ids are equal.</summary>
    private sealed class NgramComparer(int[] words, int n) : IEqualityComparer<int>
    {
        public bool Equals(int x, int y) => x == y || words.AsSpan(x, n).SequenceEqual(words.AsSpan(y, n));

        public int GetHashCode(int start)
        {
            var hash = new HashCode();
            foreach (int id in words.AsSpan(start, n)) hash.Add(id);
            return hash.ToHashCode();
        }
    }
}
