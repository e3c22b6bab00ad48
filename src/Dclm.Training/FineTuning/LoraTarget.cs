using Dclm.Models;

namespace Dclm.Training.FineTuning;

/// <summary>The projections of a block an adapter can attach to.</summary>
public enum LoraTarget
{
    /// <summary>q: the query projection (open_lm: the first third of in_proj).</summary>
    Query,
    /// <summary>k: the key projection.</summary>
    Key,
    /// <summary>v: the value projection.</summary>
    Value,
    /// <summary>o: the attention output projection.</summary>
    Output,
    /// <summary>gate: SwiGLU's gate (open_lm: the first half of w12).</summary>
    Gate,
    /// <summary>up: SwiGLU's up projection.</summary>
    Up,
    /// <summary>down: the feed-forward down projection (open_lm: w3).</summary>
    Down,
}

/// <summary>Names and shapes of <see cref="LoraTarget"/>s.</summary>
public static class LoraTargets
{
    /// <summary>All seven, in block order.</summary>
    public static readonly LoraTarget[] All = Enum.GetValues<LoraTarget>();

    /// <summary>The short name used on the command line: q, k, v, o, gate, up, down.</summary>
    public static string Name(LoraTarget target) => target switch
    {
        LoraTarget.Query => "q", LoraTarget.Key => "k", LoraTarget.Value => "v", LoraTarget.Output => "o",
        LoraTarget.Gate => "gate", LoraTarget.Up => "up", _ => "down",
    };

    /// <summary>Parses "q,k,v,o,gate,up,down" (any subset, any order; "all" for all seven).</summary>
    public static LoraTarget[] Parse(string list)
    {
        if (list.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)) return All;
        var targets = new List<LoraTarget>();
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var found = All.Where(t => Name(t).Equals(part, StringComparison.OrdinalIgnoreCase)).ToArray();
            if (found.Length == 0) throw new ArgumentException($"unknown LoRA target '{part}'; choose from {string.Join(",", All.Select(Name))}");
            if (!targets.Contains(found[0])) targets.Add(found[0]);
        }
        if (targets.Count == 0) throw new ArgumentException("give at least one LoRA target (q,k,v,o,gate,up,down)");
        return [.. targets.Order()];
    }

    /// <summary>(out, in) of the target's projection in a model of <paramref name="c"/>.</summary>
    public static (int Rows, int Columns) Shape(LoraTarget target, ModelConfig c) => target switch
    {
        LoraTarget.Query => (c.QueryDim, c.Dim),
        LoraTarget.Key or LoraTarget.Value => (c.KeyValueDim, c.Dim),
        LoraTarget.Output => (c.Dim, c.QueryDim),
        LoraTarget.Gate or LoraTarget.Up => (c.HiddenDim, c.Dim),
        _ => (c.Dim, c.HiddenDim),
    };
}
