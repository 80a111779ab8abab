import type { Server } from 'node:http';
import { AppError } from './errors.js';

/**
 * Starts `server` listening on `host:port`. A port that is taken or not allowed is an `AppError`
 * naming the port and the variable that sets it (`variable`), not a stack trace.
 */
export async function listen(server: Server, port: number, host: string, variable: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') {
        reject(new AppError('port_unavailable', `port ${port} on ${host} is already in use: set ${variable} to a free port.`, { cause: err }));
      } else if (err.code === 'EACCES') {
        reject(new AppError('port_unavailable', `port ${port} on ${host} needs privileges this process does not have: set ${variable} to a port above 1023.`, { cause: err }));
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
        reject(new AppError('port_unavailable', `cannot listen on ${host}: it is not an address of this machine (HOST).`, { cause: err }));
      } else {
        reject(err);
      }
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
