// The CPU accelerator emits a dynamic assembly that calls the internal kernels and their parameter structs.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("ILGPURuntime")]
