namespace Dclm.Data.Dedup;

/// <summary>
/// BFF and exact dedup split across P workers by hash: worker p owns the n-grams with hash ≡ p (mod P) in its own
/// Bloom filter (1/P of the memory) and the documents whose exact-text key ≡ p (mod P). Each worker reads every
/// document in the global order and records, per paragraph, how many of its own n-grams were already present
/// and how many it owns, then inserts them all. Summing the P records gives exactly the counts one filter
/// would have produced, because with "insert removed paragraphs too" no insertion depends on a decision. Exact
/// duplicates are decided by the owner of their key. The reduce step (<see cref="Decide"/>) then applies BFF's
/// paragraph and document thresholds.
/// </summary>
public sealed class PartitionedBff(int partition, int partitions, BloomFilter filter, int ngramSize, int minimumNgramSize)
{
    private readonly HashSet<UInt128> _exactKeys = new();
    private readonly List<ulong> _hashes = new();

    /// <summary>Exact-duplicate verdict of one partition: not this partition's key, first copy, or later copy.</summary>
    public enum ExactVerdict : byte
    {
        /// <summary>Another partition owns the document's key.</summary>
        NotOwner = 0,
        /// <summary>First document with this key.</summary>
        First = 1,
        /// <summary>An earlier document had the same key.</summary>
        Duplicate = 2,
    }

    /// <summary>Counts one document against this partition and writes its record to <paramref name="output"/>.</summary>
    public void Count(string text, BinaryWriter output)
    {
        var key = ExactDeduplicator.Key(text);
        var verdict = (int)(key % (UInt128)(ulong)partitions) == partition
            ? (_exactKeys.Add(key) ? ExactVerdict.First : ExactVerdict.Duplicate)
            : ExactVerdict.NotOwner;
        output.Write((byte)verdict);
        int paragraphs = text.AsSpan().Count('\n') + 1;
        output.Write(paragraphs);
        foreach (var range in text.AsSpan().Split('\n'))
        {
            BffDeduplicator.ParagraphNgrams(text.AsSpan(range), _hashes, ngramSize, minimumNgramSize);
            // As BFF does: the paragraph's n-grams are all looked up before any of them is inserted (a paragraph
            // repeating one n-gram does not contain itself).
            int contained = 0, owned = 0;
            foreach (var hash in _hashes)
            {
                if ((int)(hash % (ulong)partitions) != partition) continue;
                owned++;
                if (filter.Contains(hash)) contained++;
            }
            foreach (var hash in _hashes) if ((int)(hash % (ulong)partitions) == partition) filter.Add(hash);
            output.Write(contained);
            output.Write(owned);
        }
    }

    /// <summary>One document's counts read back from a partition file.</summary>
    public readonly record struct Record(ExactVerdict Exact, int[] Contained, int[] Owned);

    /// <summary>Reads the next record; <paramref name="name"/> labels errors.</summary>
    public static Record Read(BinaryReader reader, string name)
    {
        try
        {
            var exact = (ExactVerdict)reader.ReadByte();
            int paragraphs = reader.ReadInt32();
            if (paragraphs is < 0 or > 100_000_000) throw new InvalidDataException($"{name}: implausible paragraph count {paragraphs}");
            var contained = new int[paragraphs];
            var owned = new int[paragraphs];
            for (int i = 0; i < paragraphs; i++) { contained[i] = reader.ReadInt32(); owned[i] = reader.ReadInt32(); }
            return new Record(exact, contained, owned);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{name}: partition file ends early; rerun that dedup partition");
        }
    }

    /// <summary>
    /// Combines the P records of one document: exact duplicate when its owner says so, otherwise paragraphs whose
    /// summed contained share exceeds <paramref name="threshold"/> are removed, and the whole document when its
    /// total share does.
    /// </summary>
    public static (bool ExactDuplicate, BffResult Result) Decide(string text, IReadOnlyList<Record> records, double threshold)
    {
        if (records.Any(r => r.Exact == ExactVerdict.Duplicate)) return (true, new BffResult("", 0, true));
        var windows = new List<(int Start, int End)>();
        BffParagraphs.Windows(text, windows);
        if (records.Any(r => r.Contained.Length != windows.Count))
            throw new InvalidDataException("partition files do not match the documents (paragraph counts differ); rerun the dedup partitions");
        long totalContained = 0, totalNgrams = 0;
        var keep = new bool[windows.Count];
        int removed = 0;
        for (int p = 0; p < windows.Count; p++)
        {
            long contained = 0, owned = 0;
            foreach (var record in records) { contained += record.Contained[p]; owned += record.Owned[p]; }
            totalContained += contained;
            totalNgrams += owned;
            if (owned > 0 && (double)contained / owned > threshold) removed++;
            else keep[p] = true;
        }
        if (totalNgrams > 0 && (double)totalContained / totalNgrams > threshold) return (false, new BffResult("", removed, true));
        return (false, new BffResult(removed == 0 ? text : BffParagraphs.Join(text, windows, keep), removed, false));
    }
}
