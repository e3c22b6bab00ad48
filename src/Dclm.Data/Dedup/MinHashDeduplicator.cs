using Dclm.Data.Text;

namespace Dclm.Data.Dedup;

/// <summary>
/// Near-duplicate document detection with MinHash and locality-sensitive hashing. Each document's set of
/// lowercased word n-gram shingles gets bands·rows min-hashes (hash functions h_i(x) = mix(x ⊕ seed_i)); two
/// documents become candidates when all rows of some band agree, which happens with probability
/// 1 − (1 − s^rows)^bands for Jaccard similarity s. A candidate whose signature agreement (the Jaccard estimate)
/// reaches the threshold is a duplicate of the earlier document and is dropped.
/// </summary>
public sealed class MinHashDeduplicator
{
    private readonly int _ngramSize, _bands, _rows;
    private readonly double _threshold;
    private readonly ulong[] _seeds;
    private readonly Dictionary<(int Band, ulong Key), int> _buckets = new();
    private readonly List<ulong[]> _signatures = new();

    /// <summary>Creates a deduplicator; see <see cref="Pipeline.MinHashYaml"/> for the parameters.</summary>
    public MinHashDeduplicator(int ngramSize, int bands, int rows, double threshold)
    {
        _ngramSize = ngramSize;
        _bands = bands;
        _rows = rows;
        _threshold = threshold;
        _seeds = new ulong[bands * rows];
        for (int i = 0; i < _seeds.Length; i++) _seeds[i] = StableHash.Mix(0x1234_5678UL + (ulong)i);
    }

    /// <summary>True when <paramref name="text"/> nearly duplicates an earlier kept document; otherwise indexes it.</summary>
    public bool IsDuplicate(string text)
    {
        var signature = Signature(text);
        if (signature is null) return false;
        var bandKeys = new ulong[_bands];
        for (int b = 0; b < _bands; b++)
        {
            ulong key = (ulong)b;
            for (int r = 0; r < _rows; r++) key = StableHash.Combine(key, signature[b * _rows + r]);
            bandKeys[b] = key;
            if (_buckets.TryGetValue((b, key), out int other) && EstimatedJaccard(signature, _signatures[other]) >= _threshold) return true;
        }
        int index = _signatures.Count;
        _signatures.Add(signature);
        for (int b = 0; b < _bands; b++) _buckets.TryAdd((b, bandKeys[b]), index);
        return false;
    }

    /// <summary>Fraction of equal min-hashes: an unbiased estimate of the Jaccard similarity of the shingle sets.</summary>
    public static double EstimatedJaccard(ulong[] a, ulong[] b)
    {
        int equal = 0;
        for (int i = 0; i < a.Length; i++) if (a[i] == b[i]) equal++;
        return (double)equal / a.Length;
    }

    /// <summary>The min-hash signature of <paramref name="text"/>, or null when it has no words.</summary>
    public ulong[]? Signature(string text)
    {
        var lowered = text.ToLowerInvariant();
        var hashes = new List<ulong>();
        var segments = new Text.WordSegmenter(lowered);
        while (segments.MoveNext())
        {
            if (Text.PythonText.IsAlnum(Text.PythonText.At(segments.Current, 0).CodePoint)) hashes.Add(StableHash.Of(segments.Current));
        }
        if (hashes.Count == 0) return null;
        var wordHashes = hashes.ToArray();
        int n = Math.Min(_ngramSize, wordHashes.Length);
        var signature = new ulong[_seeds.Length];
        Array.Fill(signature, ulong.MaxValue);
        for (int start = 0; start + n <= wordHashes.Length; start++)
        {
            ulong shingle = (ulong)n;
            for (int i = start; i < start + n; i++) shingle = StableHash.Combine(shingle, wordHashes[i]);
            for (int h = 0; h < _seeds.Length; h++)
            {
                ulong value = StableHash.Mix(shingle ^ _seeds[h]);
                if (value < signature[h]) signature[h] = value;
            }
        }
        return signature;
    }
}
