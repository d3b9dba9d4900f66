import { Injectable } from '@nestjs/common';

/** Whether this instance is shutting down; readiness reports 503 from the moment it is. */
@Injectable()
export class LifecycleState {
  private shutdownStartedAt?: Date;

  beginShutdown(): void {
    this.shutdownStartedAt ??= new Date();
  }

  get shuttingDown(): boolean {
    return this.shutdownStartedAt !== undefined;
  }
}
