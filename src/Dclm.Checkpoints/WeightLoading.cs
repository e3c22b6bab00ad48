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
