using Dclm.Data.Dedup;

namespace Dclm.Data.Tests;

public class DedupTests
{
    /// <summary>Unique real paragraphs (≥ 20 tokens) from the prose and ham-mail samples.</summary>
    private static List<string> UniqueParagraphs()
    {
        var seen = new HashSet<string>();
        var paragraphs = new List<string>();
        foreach (var document in Fixtures.Read("prose.jsonl.zst").Concat(Fixtures.Read("mail-ham.jsonl.zst")))
        {
            foreach (var raw in document.Text.Replace("\r", "").Split("\n\n"))
            {
                var paragraph = string.Join(' ', raw.Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries));
                if (BffTokenizer.TokenHashes(paragraph).Count >= 20 && paragraph.Length < 2000 && seen.Add(paragraph)) paragraphs.Add(paragraph);
            }
        }
        return paragraphs;
    }

    /// <summary>A near-duplicate edit that keeps more than 80% of the paragraph's 13-grams.</summary>
    private static string Perturb(string paragraph, Random random)
    {
        switch (random.Next(4))
        {
            case 0: return paragraph.Replace(" ", "  ");                       // whitespace only
            case 1: return paragraph + " (updated)";                          // appended words
            case 2: return "Posted by admin: " + paragraph;                   // prefix
            default:
                var words = paragraph.Split(' ');
                if (words.Length < 120) return paragraph + " Thanks!";
                words[words.Length / 2] = "CHANGED";                           // one word in a long paragraph
                return string.Join(' ', words);
        }
    }

    [Theory]
    [InlineData(false)] // DCLM's old-both: only kept paragraphs enter the filter
    [InlineData(true)]  // the partitionable variant
    public void BffFindsPlantedNearDuplicatesAndSparesUniqueParagraphs(bool insertRemovedParagraphs)
    {
        var paragraphs = UniqueParagraphs();
        Assert.True(paragraphs.Count >= 560, $"only {paragraphs.Count} paragraphs");
        var random = new Random(7);
        // 100 originals of 3 paragraphs each; then 100 planted near-duplicate documents interleaved with 50 more originals.
        var originals = new List<string[]>();
        int next = 0;
        for (int d = 0; d < 100; d++)
        {
            originals.Add(paragraphs.Skip(next).Take(3).ToArray());
            next += 3;
        }
        var stream = new List<(string Text, bool Planted, int Paragraphs)>();
        foreach (var doc in originals) stream.Add((string.Join('\n', doc), false, 3));
        for (int d = 0; d < 100; d++)
        {
            var source = originals[random.Next(originals.Count)];
            var copy = source.Select(p => Perturb(p, random)).ToList();
            stream.Add((string.Join('\n', copy), true, copy.Count));
            if (d % 2 == 0)
            {
                stream.Add((string.Join('\n', paragraphs.Skip(next).Take(3)), false, 3));
                next += 3;
            }
        }

        var filter = BloomFilter.Create(200_000, 0.01, 64 << 20);
        var dedup = new BffDeduplicator(filter, 13, 13, 0.8, insertRemovedParagraphs);
        int plantedParagraphs = 0, plantedRemoved = 0, uniqueParagraphs = 0, uniqueRemoved = 0;
        foreach (var (text, planted, count) in stream)
        {
            var result = dedup.Process(text);
            int removed = result.DocumentRemoved ? count : result.ParagraphsRemoved;
            if (planted)
            {
                plantedParagraphs += count;
                plantedRemoved += removed;
            }
            else
            {
                uniqueParagraphs += count;
                uniqueRemoved += removed;
            }
        }
        double recall = (double)plantedRemoved / plantedParagraphs;
        double falseRemoval = (double)uniqueRemoved / uniqueParagraphs;
        Console.WriteLine($"BFF (insert removed: {insertRemovedParagraphs}) recall {recall:P2} on {plantedParagraphs} planted paragraphs; false removal {falseRemoval:P2} of {uniqueParagraphs} unique");
        Assert.True(recall >= 0.95, $"recall {recall:P2}");
        Assert.True(falseRemoval <= 0.01, $"false removal {falseRemoval:P2}");
    }

    [Theory]
    [InlineData(0.75, true)]   // contained share 0.8 > 0.75: removed
    [InlineData(0.80, false)]  // 0.8 is not > 0.8: kept
    public void ParagraphThresholdIsStrict(double threshold, bool removed)
    {
        // 17 tokens -> 5 thirteen-grams; a copy with the last token changed shares 4 of 5 = 0.8.
        var words = Enumerable.Range(0, 17).Select(i => $"w{i}").ToArray();
        var dedup = new BffDeduplicator(BloomFilter.Create(1000, 0.0001, 1 << 20), 13, 13, threshold);
        dedup.Process(string.Join(' ', words));
        words[16] = "different";
        var result = dedup.Process(string.Join(' ', words) + "\n" + "a fresh unrelated paragraph that has quite enough tokens to form one full n-gram here");
        Assert.Equal(removed ? 1 : 0, result.ParagraphsRemoved);
    }

    [Fact]
    public void ShortParagraphsAreHashedWholeAboveMinimumSize()
    {
        var dedup = new BffDeduplicator(BloomFilter.Create(1000, 0.0001, 1 << 20), 13, 5, 0.8);
        dedup.Process("one two three four five six");
        Assert.True(dedup.Process("one two three four five six").DocumentRemoved);
        var tiny = new BffDeduplicator(BloomFilter.Create(1000, 0.0001, 1 << 20), 13, 5, 0.8);
        tiny.Process("one two three");
        Assert.False(tiny.Process("one two three").DocumentRemoved); // below min size: never deduplicated
    }

    [Fact]
    public void BloomFilterMeetsItsFalsePositiveRate()
    {
        var filter = BloomFilter.Create(100_000, 0.01, 1 << 20);
        for (ulong i = 0; i < 100_000; i++) filter.Add(StableHash.Mix(i));
        for (ulong i = 0; i < 100_000; i++) Assert.True(filter.Contains(StableHash.Mix(i)));
        int falsePositives = 0;
        for (ulong i = 1_000_000; i < 1_100_000; i++) if (filter.Contains(StableHash.Mix(i))) falsePositives++;
        Assert.InRange(falsePositives / 100_000.0, 0.0, 0.013);
        Assert.InRange(filter.SizeInBytes, 110_000, 130_000); // 9.59 bits per key at 1%
    }

    [Fact]
    public void BloomFilterRefusesToExceedTheMemoryBound()
    {
        var error = Assert.Throws<InvalidOperationException>(() => BloomFilter.Create(1_000_000_000, 0.01, 64 << 20));
        Assert.Contains("max_memory_mb", error.Message);
    }

    [Fact]
    public void ExactDedupIgnoresCaseAndWhitespace()
    {
        var exact = new ExactDeduplicator();
        Assert.False(exact.IsDuplicate("Hello  World\n"));
        Assert.True(exact.IsDuplicate("hello world"));
        Assert.False(exact.IsDuplicate("hello worlds"));
    }

    [Fact]
    public void MinHashFindsNearDuplicateDocumentsButNotDistinctOnes()
    {
        var paragraphs = UniqueParagraphs();
        var minhash = new MinHashDeduplicator(5, 20, 5, 0.8);
        var documents = Enumerable.Range(0, 100).Select(i => string.Join('\n', paragraphs.Skip(i * 5).Take(5))).ToList();
        Assert.All(documents, d => Assert.False(minhash.IsDuplicate(d)));
        int found = documents.Count(d => minhash.IsDuplicate(d + "\nshare this page"));
        Assert.True(found >= 95, $"found {found} of 100");
        var a = minhash.Signature(documents[0])!;
        var b = minhash.Signature(documents[1])!;
        Assert.True(MinHashDeduplicator.EstimatedJaccard(a, b) < 0.1);
    }

    [Fact]
    public void PartitionedBffEqualsTheSingleFilterVariant()
    {
        var paragraphs = UniqueParagraphs();
        var random = new Random(11);
        var documents = new List<string>();
        for (int d = 0; d < 200; d++)
        {
            if (d > 20 && d % 6 == 0) documents.Add(documents[random.Next(documents.Count)].ToUpperInvariant()); // exact (case-folded) copy, new n-grams
            else if (d > 20 && d % 6 == 3) documents.Add(documents[random.Next(documents.Count)] + "\nfooter line with quite a few words in it to make an n-gram of its own");
            else if (d > 20 && d % 5 == 0) documents.Add(documents[random.Next(documents.Count)]);
            else documents.Add(string.Join('\n', Enumerable.Range(0, 3).Select(_ => paragraphs[random.Next(paragraphs.Count)])));
        }

        // Reference: one filter, removed paragraphs inserted too; BFF sees every document, exact dedup decides first.
        var single = new BffDeduplicator(BloomFilter.Create(100_000, 1e-9, 1 << 26), 13, 13, 0.8, insertRemovedParagraphs: true);
        var exact = new ExactDeduplicator();
        var expected = documents.Select(text =>
        {
            var result = single.Process(text);
            return exact.IsDuplicate(text) ? (true, new BffResult("", 0, true)) : (false, result);
        }).ToList();

        const int partitions = 3;
        var streams = Enumerable.Range(0, partitions).Select(_ => new MemoryStream()).ToArray();
        for (int p = 0; p < partitions; p++)
        {
            var counter = new PartitionedBff(p, partitions, BloomFilter.Create(40_000, 1e-9, 1 << 26), 13, 13);
            using var writer = new BinaryWriter(streams[p], System.Text.Encoding.UTF8, leaveOpen: true);
            foreach (var text in documents) counter.Count(text, writer);
        }
        var readers = streams.Select(s => { s.Position = 0; return new BinaryReader(s); }).ToArray();
        int removedSomething = 0;
        for (int d = 0; d < documents.Count; d++)
        {
            var records = readers.Select(r => PartitionedBff.Read(r, "memory")).ToArray();
            var actual = PartitionedBff.Decide(documents[d], records, 0.8);
            Assert.Equal(expected[d].Item1, actual.ExactDuplicate);
            Assert.Equal(expected[d].Item2, actual.Result);
            if (actual.ExactDuplicate || actual.Result.ParagraphsRemoved > 0 || actual.Result.DocumentRemoved) removedSomething++;
        }
        Assert.True(removedSomething >= 40, $"only {removedSomething} documents touched");
    }
}
