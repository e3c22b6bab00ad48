namespace Dclm.Checkpoints;

/// <summary>How <see cref="ModelLoader"/> holds a model's weights.</summary>
public enum WeightLoading
{
    /// <summary>
    /// Copied into memory when they fit beside what is available (<see cref="WeightResidence.Choose"/>), else
    /// mapped: the copy decodes at the memory-bandwidth bound, the mapping can fall far below it.
    /// </summary>
    Automatic,
    /// <summary>Mapped from the file and used in place (dclm's --mmap): instant loads, shared page cache.</summary>
    Mapped,
    /// <summary>Copied into private memory whatever is available (dclm's --no-mmap).</summary>
    Copied,
}

/// <summary>The <c>--mmap</c> / <c>--no-mmap</c> pair every command and benchmark that loads a model takes.</summary>
public static class WeightLoadingOptions
{
    /// <summary>The loading the two flags ask for: <see cref="WeightLoading.Automatic"/> unless one is given; both is an error.</summary>
    public static WeightLoading FromFlags(bool mmap, bool noMmap) => (mmap, noMmap) switch
    {
        (true, true) => throw new ArgumentException("give at most one of --mmap and --no-mmap"),
        (true, false) => WeightLoading.Mapped,
        (false, true) => WeightLoading.Copied,
        _ => WeightLoading.Automatic,
    };
}
