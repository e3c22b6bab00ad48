using Dclm.Data.Dedup;
using Dclm.Data.Text;

namespace Dclm.Data.Decontamination;

/// <summary>
/// The n-grams of the evaluation tasks: normalized words (Unicode word segments that start with a letter or digit,
/// lowercased, so punctuation, spacing and case do not matter), every <c>ngram_size</c>-gram of every text field, and
/// a field shorter than that but at least <c>min_words</c> long as one n-gram of its own length (a short question
/// copied verbatim is still found). Each n-gram is a 64-bit polynomial hash of its word hashes, remembered with the
/// first task it came from.
/// </summary>
public sealed class EvalNgramIndex
{
    private const ulong Multiplier = 0x9E3779B97F4A7C15UL;
    private readonly Dictionary<ulong, int> _ngrams = new();
    private readonly SortedSet<int> _sizes = new();

    /// <summary>Indexes the texts of <paramref name="tasks"/>.</summary>
    public EvalNgramIndex(IReadOnlyList<EvalTaskTexts> tasks, int ngramSize, int minimumWords)
    {
        if (ngramSize < 1 || minimumWords < 1 || minimumWords > ngramSize) throw new ArgumentException("decontamination needs 1 <= min_words <= ngram_size");
        NgramSize = ngramSize;
        Tasks = tasks.Select(t => t.Label).ToArray();
        var words = new List<ulong>();
        for (int t = 0; t < tasks.Count; t++)
        {
            foreach (var item in tasks[t].Items)
            {
                foreach (var text in item)
                {
                    Words(text, words);
                    if (words.Count >= ngramSize) Add(words, ngramSize, t);
                    else if (words.Count >= minimumWords) Add(words, words.Count, t);
                }
            }
        }
    }

    /// <summary>The n-gram size.</summary>
    public int NgramSize { get; }

    /// <summary>Task labels, by index.</summary>
    public IReadOnlyList<string> Tasks { get; }

    /// <summary>Distinct n-grams indexed.</summary>
    public int Count => _ngrams.Count;

    private void Add(List<ulong> words, int size, int task)
    {
        _sizes.Add(size);
        foreach (var hash in Rolling(words, size)) _ngrams.TryAdd(hash, task);
    }

    /// <summary>The index of the first task sharing an n-gram with <paramref name="text"/>, or -1.</summary>
    public int FirstMatch(string text)
    {
        var words = new List<ulong>();
        Words(text, words);
        foreach (int size in _sizes)
        {
            if (words.Count < size) break;
            foreach (var hash in Rolling(words, size)) if (_ngrams.TryGetValue(hash, out int task)) return task;
        }
        return -1;
    }

    /// <summary>Stable hashes of the normalized words of <paramref name="text"/>.</summary>
    public static void Words(string text, List<ulong> words)
    {
        words.Clear();
        Span<char> lower = stackalloc char[64];
        var segments = new WordSegmenter(text);
        while (segments.MoveNext())
        {
            var word = segments.Current;
            if (!PythonText.IsAlnum(PythonText.At(word, 0).CodePoint)) continue;
            if (word.Length <= lower.Length)
            {
                int length = word.ToLowerInvariant(lower);
                words.Add(StableHash.Of(lower[..length]));
            }
            else words.Add(StableHash.Of(word.ToString().ToLowerInvariant()));
        }
    }

    /// <summary>Σ word[i+k]·M^(size−1−k) for every window (updated in O(1) per step), offset by the size so sizes never collide.</summary>
    private static IEnumerable<ulong> Rolling(List<ulong> words, int size)
    {
        ulong top = 1;
        for (int k = 1; k < size; k++) top *= Multiplier;
        ulong offset = StableHash.Mix((ulong)size);
        ulong hash = 0;
        for (int k = 0; k < size; k++) hash = hash * Multiplier + words[k];
        yield return hash + offset;
        for (int i = size; i < words.Count; i++)
        {
            hash = (hash - words[i - size] * top) * Multiplier + words[i];
            yield return hash + offset;
        }
    }
}
