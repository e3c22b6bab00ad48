using System.Globalization;
using Dclm.Data.Dedup;
using Dclm.Data.Documents;

namespace Dclm.Data.Mixing;

/// <summary>
/// Balancing by down-sampling: given target proportions per group (a source, or a classifier's label), keeps the
/// largest set whose group shares are the targets — k_g = ⌊N·p_g⌋ with N = min_g(available_g / p_g), so the scarcest
/// group is kept whole — choosing within each group the pages with the smallest hash of (id, seed). The choice depends
/// only on the ids and the seed, not on order, threads or shards. Pages of groups without a target are dropped.
/// </summary>
public sealed class Balancer
{
    private readonly string[] _groups;
    private readonly double[] _targets;      // normalized proportions
    private readonly ulong _seed;
    private readonly Dictionary<long, (int Group, ulong Rank)> _observed = new();
    private (ulong Rank, long Ordinal)[] _cutoffs = [];   // per group: keep (rank, ordinal) <= cutoff
    private long[] _available = [], _kept = [];

    /// <summary>Balances toward <paramref name="targets"/> (group → proportion, normalized to sum 1).</summary>
    public Balancer(IReadOnlyDictionary<string, double> targets, int seed)
    {
        if (targets.Count == 0 || targets.Values.Any(p => p < 0 || double.IsNaN(p)) || targets.Values.Sum() <= 0)
            throw new ArgumentException("balance.targets must give non-negative proportions with a positive sum");
        _groups = targets.Keys.Order(StringComparer.Ordinal).ToArray();
        double sum = targets.Values.Sum();
        _targets = _groups.Select(g => targets[g] / sum).ToArray();
        _seed = (ulong)seed;
    }

    /// <summary>Records a candidate page (after the quality cut) with its group.</summary>
    public void Observe(long ordinal, Document document, string group)
    {
        int index = Array.IndexOf(_groups, group);
        _observed[ordinal] = (index, StableHash.Combine(_seed, StableHash.Of(document.Id)));
    }

    /// <summary>Fixes the quota and the cut-off rank of every group, once all candidates are observed.</summary>
    public void Plan()
    {
        _available = new long[_groups.Length];
        foreach (var (group, _) in _observed.Values) if (group >= 0) _available[group]++;
        double total = double.PositiveInfinity;
        for (int g = 0; g < _groups.Length; g++) if (_targets[g] > 0) total = Math.Min(total, _available[g] / _targets[g]);
        _kept = new long[_groups.Length];
        _cutoffs = new (ulong, long)[_groups.Length];
        for (int g = 0; g < _groups.Length; g++)
        {
            _kept[g] = _targets[g] > 0 ? Math.Min(_available[g], (long)Math.Floor(total * _targets[g] + 1e-9)) : 0;
            var ranks = _observed.Where(o => o.Value.Group == g).Select(o => (o.Value.Rank, o.Key)).Order().ToArray();
            _cutoffs[g] = _kept[g] == 0 ? (0UL, -1L) : ranks[_kept[g] - 1];
        }
    }

    /// <summary>The drop rule for the observed page <paramref name="ordinal"/>, or null to keep it.</summary>
    public string? Decide(long ordinal)
    {
        var (group, rank) = _observed[ordinal];
        if (group < 0) return "group_without_target";
        return (rank, ordinal).CompareTo(_cutoffs[group]) <= 0 ? null : "balanced_away";
    }

    /// <summary>Targets, pages available and kept, and the proportions reached, for the report.</summary>
    public void Describe(IDictionary<string, string> notes)
    {
        string Format(Func<int, string> value) => string.Join(", ", Enumerable.Range(0, _groups.Length).Select(g => $"{_groups[g]}={value(g)}"));
        long kept = _kept.Sum();
        notes["targets"] = Format(g => _targets[g].ToString("F3", CultureInfo.InvariantCulture));
        notes["available"] = Format(g => _available[g].ToString(CultureInfo.InvariantCulture));
        notes["kept"] = Format(g => _kept[g].ToString(CultureInfo.InvariantCulture));
        notes["achieved"] = Format(g => (kept == 0 ? 0 : (double)_kept[g] / kept).ToString("F3", CultureInfo.InvariantCulture));
    }
}
