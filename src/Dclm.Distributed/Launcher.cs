using System.Globalization;

namespace Dclm.Distributed;

/// <summary>
/// Which MPI launcher started this process, read from the environment it sets: Open MPI's mpirun
/// (OMPI_COMM_WORLD_*), Slurm's srun (SLURM_STEP_NUM_TASKS, SLURM_PROCID; PMIX_RANK under --mpi=pmix), MPICH-style
/// PMI (PMI_SIZE, PMI_RANK) and the Kubernetes MPI Operator (which runs mpirun).
/// </summary>
public sealed record Launcher(string Name, int? Size, int? Rank)
{
    /// <summary>The launcher found in <paramref name="environment"/> (default: this process's), or null when started alone.</summary>
    public static Launcher? Detect(IReadOnlyDictionary<string, string?>? environment = null)
    {
        string? Get(string name) => environment is not null ? environment.GetValueOrDefault(name) : Environment.GetEnvironmentVariable(name);
        int? Int(string name) => int.TryParse(Get(name), NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : null;
        if (Int("OMPI_COMM_WORLD_SIZE") is int ompi) return new Launcher("mpirun (Open MPI)", ompi, Int("OMPI_COMM_WORLD_RANK"));
        if (Get("SLURM_STEP_ID") is not null && Int("SLURM_STEP_NUM_TASKS") is int tasks)
            return new Launcher("srun (Slurm)", tasks, Int("SLURM_PROCID"));
        if (Int("PMI_SIZE") is int pmi) return new Launcher("PMI", pmi, Int("PMI_RANK"));
        if (Get("PMIX_RANK") is not null) return new Launcher("PMIx", null, Int("PMIX_RANK"));
        return null;
    }

    /// <summary>
    /// The process group: MPI's world when a launcher started more than one process (checked against the size the
    /// launcher announced), else <see cref="SingleProcess"/>.
    /// </summary>
    public static ICommunicator Join(IReadOnlyDictionary<string, string?>? environment = null)
    {
        var launcher = Detect(environment);
        if (launcher is null || launcher.Size == 1) return SingleProcess.Instance;
        var world = MpiCommunicator.InitializeWorld();
        if (launcher.Size is int expected && world.Size != expected)
        {
            world.Dispose();
            throw new InvalidOperationException($"{launcher.Name} started {expected} processes but MPI sees {world.Size}: under Slurm, run srun --mpi=pmix (or mpirun inside the allocation)");
        }
        return world;
    }
}
