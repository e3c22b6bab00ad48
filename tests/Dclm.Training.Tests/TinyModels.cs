using Dclm.Models;

namespace Dclm.Training.Tests;

internal static class TinyModels
{
    /// <summary>An open_lm config small enough for float64 finite differences over every tensor.</summary>
    public static ModelConfig Config(bool tied = false, bool qkNorm = true) => ModelConfig.OpenLm(8, 2, 2, 13, 16) with
    {
        HiddenDim = 12, TiedEmbeddings = tied, QueryKeyNorm = qkNorm ? QueryKeyNorm.FullWidth : QueryKeyNorm.None,
    };
}
