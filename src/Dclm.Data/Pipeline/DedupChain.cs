using Dclm.Data.Dedup;
using Dclm.Data.Documents;
using Dclm.Data.Inputs;

namespace Dclm.Data.Pipeline;

/// <summary>
/// The configured dedup steps of the global phase, applied to documents in global order: exact, then BFF
/// (single filter or summed partition files) or MinHash-LSH. Counts go to <see cref="ExactStatistics"/> and
/// <see cref="NearStatistics"/>.
/// </summary>
internal sealed class DedupChain : IDisposable
{
    private readonly DedupConfig _dedup;
    private readonly ExactDeduplicator? _exact;
    private readonly BffDeduplicator? _bff;
    private readonly MinHashDeduplicator? _minhash;
    private readonly BffPartitionFiles? _partitioned;
    private long _paragraphsRemoved;

    public DedupChain(PipelineConfig config, CurationOptions options, IReadOnlyList<InputUnit> plan, long expectedNgrams, CancellationToken cancellation)
    {
        _dedup = config.Dedup;
        NearStatistics = new StageStatistics { Name = _dedup.Method == "minhash" ? "minhash_dedup" : "bff_dedup" };
        var bffConfig = _dedup.Bff;
        if (_dedup.Method == "bff" && bffConfig.Partitions > 1)
        {
            // Partitions not yet counted by `--phase dedup` workers are counted here, on the run's threads.
            int partitions = bffConfig.Partitions;
            var missing = Enumerable.Range(0, partitions).Where(p => !File.Exists(BffPartitionFiles.PathOf(options.OutputPath, p, partitions))).ToList();
            ParallelWork.ForEach(missing, options.Threads, cancellation,
                p => BffPartitionFiles.Write(config, options.OutputPath, plan, expectedNgrams, p, cancellation));
            _partitioned = BffPartitionFiles.Open(config, options.OutputPath);
            NearStatistics.Notes["partitions"] = partitions.ToString();
            return;
        }
        if (_dedup.Exact) _exact = new ExactDeduplicator();
        if (_dedup.Method == "bff")
        {
            long expected = bffConfig.ExpectedNgrams > 0 ? bffConfig.ExpectedNgrams : Math.Max(1024, expectedNgrams);
            var filter = BloomFilter.Create(expected, bffConfig.FalsePositiveRate, bffConfig.MaxMemoryMb << 20);
            _bff = new BffDeduplicator(filter, bffConfig.NgramSize, bffConfig.MinNgramSize, bffConfig.Threshold);
            NearStatistics.Notes["expected_ngrams"] = expected.ToString();
            NearStatistics.Notes["filter_bytes"] = filter.SizeInBytes.ToString();
            NearStatistics.Notes["hash_functions"] = filter.HashCount.ToString();
        }
        else if (_dedup.Method == "minhash")
        {
            var m = _dedup.Minhash;
            _minhash = new MinHashDeduplicator(m.NgramSize, m.Bands, m.Rows, m.Threshold);
        }
    }

    public StageStatistics ExactStatistics { get; } = new() { Name = "exact_dedup" };

    public StageStatistics NearStatistics { get; }

    /// <summary>Runs the steps on <paramref name="document"/> (BFF may shorten its text); false when it is removed.</summary>
    public bool Keep(Document document)
    {
        if (_partitioned is not null)
        {
            var (exactDuplicate, combined) = _partitioned.Next(document.Text);
            if (_dedup.Exact && !GlobalPhase.Count(ExactStatistics, document, () => exactDuplicate ? "exact_duplicate" : null)) return false;
            return GlobalPhase.Count(NearStatistics, document, () => ApplyBff(document, combined));
        }
        if (_exact is not null && !GlobalPhase.Count(ExactStatistics, document, () => _exact.IsDuplicate(document.Text) ? "exact_duplicate" : null)) return false;
        if (_bff is not null) return GlobalPhase.Count(NearStatistics, document, () => ApplyBff(document, _bff.Process(document.Text)));
        if (_minhash is not null) return GlobalPhase.Count(NearStatistics, document, () => _minhash.IsDuplicate(document.Text) ? "near_duplicate" : null);
        return true;
    }

    /// <summary>The stage rows for the report, with the filter's final notes.</summary>
    public IEnumerable<StageStatistics> Stages()
    {
        if (_bff is not null || _partitioned is not null) NearStatistics.Notes["paragraphs_removed"] = _paragraphsRemoved.ToString();
        if (_bff is not null) NearStatistics.Notes["estimated_false_positive_rate"] = _bff.Filter.FalsePositiveRate(_bff.InsertedNgrams).ToString("G4");
        if (_dedup.Exact) yield return ExactStatistics;
        if (_dedup.Method != "none") yield return NearStatistics;
    }

    private string? ApplyBff(Document document, BffResult result)
    {
        _paragraphsRemoved += result.ParagraphsRemoved;
        document.Text = result.Text;
        // DCLM writes a document only when its text is not blank after dedup (Rust's trim: Unicode White_Space).
        return result.DocumentRemoved ? "duplicate_document" : string.IsNullOrWhiteSpace(result.Text) ? "all_paragraphs_duplicate" : null;
    }

    public void Dispose() => _partitioned?.Dispose();
}
