import Docker from 'dockerode';

/**
 * The Docker engine to talk to: DATAMILL_DOCKER_SOCKET (a socket path) if set, else DOCKER_HOST
 * (unix://…, tcp://…), else the default /var/run/docker.sock — what the docker CLI does.
 */
export function dockerClient(env: NodeJS.ProcessEnv = process.env): Docker {
  if (env.DATAMILL_DOCKER_SOCKET) return new Docker({ socketPath: env.DATAMILL_DOCKER_SOCKET });
  return new Docker();
}

/** Where the client connects, for error messages. */
export function engineName(docker: Docker): string {
  const m = docker.modem as { socketPath?: string; host?: string; port?: number };
  return m.socketPath ? `unix://${m.socketPath}` : `${m.host}:${m.port}`;
}
