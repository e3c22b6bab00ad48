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
        var table = NgramTable.ForThread();
        int best = table.Count(words, n);
        if (best == 1) return 0;
        if (measure == NgramMeasure.MostCommon)
        {
            long longest = 0;
            for (int i = 0; i < ngrams; i++) if (table.CountAt(i) == best) longest = Math.Max(longest, NgramLength(i, n));
            return (double)(longest * best) / _wordCharacters;
        }
        long repeated = 0;
        int coveredUntil = 0; // words before this index are already counted
        for (int i = 0; i < ngrams; i++)
        {
            if (table.CountAt(i) <= 1) continue;
            for (int w = Math.Max(i, coveredUntil); w < i + n; w++) repeated += _lengths![words[w]];
            coveredUntil = Math.Max(coveredUntil, i + n);
        }
        return (double)repeated / _wordCharacters;
    }

    private long NgramLength(int start, int n)
    {
        long length = 0;
        for (int i = start; i < start + n; i++) length += _lengths![_words![i]];
        return length;
    }

    /// <summary>
    /// Counts the n-grams of an id sequence exactly: an open-addressing table keyed by a rolling 64-bit hash, each slot
    /// remembering one occurrence, and equal hashes confirmed by comparing the ids. Reused per thread.
    /// </summary>
    private sealed class NgramTable
    {
        [ThreadStatic] private static NgramTable? _instance;
        private ulong[] _hashes = new ulong[1024];
        private int[] _starts = new int[1024];   // first occurrence in the slot, -1: empty
        private int[] _counts = new int[1024];
        private int[] _slotOf = new int[512];    // slot of the n-gram starting at each position

        public static NgramTable ForThread() => _instance ??= new NgramTable();

        public int CountAt(int start) => _counts[_slotOf[start]];

        /// <summary>Counts every n-gram of <paramref name="ids"/>; returns the highest count.</summary>
        public int Count(int[] ids, int n)
        {
            int ngrams = ids.Length - n + 1;
            int capacity = 1024;
            while (capacity < ngrams * 2) capacity <<= 1;
            if (_hashes.Length < capacity) { _hashes = new ulong[capacity]; _starts = new int[capacity]; _counts = new int[capacity]; }
            if (_slotOf.Length < ngrams) _slotOf = new int[Math.Max(ngrams, _slotOf.Length * 2)];
            Array.Fill(_starts, -1, 0, capacity);
            int mask = capacity - 1, best = 0;
            const ulong Multiplier = 0x9E3779B97F4A7C15UL;
            ulong top = 1; // Multiplier^(n-1)
            for (int k = 1; k < n; k++) top *= Multiplier;
            ulong hash = 0;
            for (int k = 0; k < n; k++) hash = hash * Multiplier + Mix(ids[k]);
            for (int i = 0; i < ngrams; i++)
            {
                if (i > 0) hash = (hash - Mix(ids[i - 1]) * top) * Multiplier + Mix(ids[i + n - 1]);
                int slot = (int)((hash ^ (hash >> 29)) & (ulong)mask);
                while (_starts[slot] >= 0 && !(_hashes[slot] == hash && ids.AsSpan(_starts[slot], n).SequenceEqual(ids.AsSpan(i, n)))) slot = (slot + 1) & mask;
                if (_starts[slot] < 0) { _starts[slot] = i; _hashes[slot] = hash; _counts[slot] = 0; }
                best = Math.Max(best, ++_counts[slot]);
                _slotOf[i] = slot;
            }
            return best;
        }

        private static ulong Mix(int id) => ((ulong)(uint)id + 1) * 0xBF58476D1CE4E5B9UL;
    }
}
