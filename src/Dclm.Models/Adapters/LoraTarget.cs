namespace Dclm.Models.Adapters;

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

    /// <summary>
    /// Where the target's rows sit in the model's projections (<see cref="Projections.LayerProjections"/>): which of the four
    /// products, and which of its parts (q, k, v are parts 0, 1, 2 of Q|K|V; gate and up parts 0 and 1 of gate|up).
    /// </summary>
    public static (LayerProduct Product, int Part) Placement(LoraTarget target) => target switch
    {
        LoraTarget.Query => (LayerProduct.QueryKeyValue, 0),
        LoraTarget.Key => (LayerProduct.QueryKeyValue, 1),
        LoraTarget.Value => (LayerProduct.QueryKeyValue, 2),
        LoraTarget.Output => (LayerProduct.Output, 0),
        LoraTarget.Gate => (LayerProduct.GateUp, 0),
        LoraTarget.Up => (LayerProduct.GateUp, 1),
        _ => (LayerProduct.Down, 0),
    };
}

/// <summary>The four matrix products of a decoder layer, as <see cref="Projections.LayerProjections"/> holds them.</summary>
public enum LayerProduct
{
    /// <summary>Q|K|V.</summary>
    QueryKeyValue,
    /// <summary>Wo.</summary>
    Output,
    /// <summary>gate|up.</summary>
    GateUp,
    /// <summary>W_down.</summary>
    Down,
}
